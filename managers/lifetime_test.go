package managers_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/managers"
)

// How long objects live: while a proxy, a stored value or a name holds
// them, and no longer; and what the end of a process lets go of. The
// server runs in this process, so that the tests can count its objects.

func init() {
	targets = append(targets, childMakes, childHolds, childAcquires, childWaitsAtBarrier, childGets, childUses)
}

// objectsBecome waits until the server holds n objects: the server hears
// of a process's end, or of a collected proxy, on its own time. It makes a
// call of m's between looks, which carries the releases of proxies
// collected meanwhile.
func objectsBecome(t *testing.T, srv *managers.Server, m *managers.Manager, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for managers.NumObjects(srv) != n {
		if time.Now().After(deadline) {
			require.Equal(t, n, managers.NumObjects(srv), "objects held: %s", managers.DescribeObjects(srv))
		}
		runtime.GC()
		require.NoError(t, managers.Flush(m))
		runtime.Gosched()
	}
}

func TestCloseLetsGo(t *testing.T) {
	srv, m := inProcess(t)
	d := must[*managers.Dict[string, int]](t)(managers.NewDict[string, int](m))
	l := must[*managers.List[int]](t)(managers.NewList[int](m))
	assert.Equal(t, 2, managers.NumObjects(srv))
	require.NoError(t, d.Close())
	require.NoError(t, d.Close(), "twice is harmless")
	assert.ErrorIs(t, d.Set("a", 1), managers.ErrClosed)
	// The release goes with the next request.
	require.NoError(t, l.Append(1))
	assert.Equal(t, 1, managers.NumObjects(srv))
	// A second proxy of the same object in this process keeps it.
	b, err := l.MarshalBinary()
	require.NoError(t, err)
	var l2 managers.List[int]
	require.NoError(t, l2.UnmarshalBinary(b))
	require.NoError(t, l.Close())
	assert.Equal(t, []int{1}, must[[]int](t)(l2.All()))
}

func TestCollectedLetsGo(t *testing.T) {
	srv, m := inProcess(t)
	func() {
		for range 10 {
			_ = must[*managers.Dict[string, int]](t)(managers.NewDict[string, int](m))
		}
	}()
	objectsBecome(t, srv, m, 0)
}

func TestStoredValuesHold(t *testing.T) {
	srv, m := inProcess(t)
	d := must[*managers.Dict[string, *managers.List[int]]](t)(managers.NewDict[string, *managers.List[int]](m))
	l := must[*managers.List[int]](t)(managers.NewList[int](m))
	require.NoError(t, l.Append(7))
	require.NoError(t, d.Set("l", l))
	require.NoError(t, l.Close())
	require.NoError(t, managers.Flush(m))
	assert.Equal(t, 2, managers.NumObjects(srv), "the dict keeps the list")
	got := must[*managers.List[int]](t)(d.Get("l"))
	assert.Equal(t, []int{7}, must[[]int](t)(got.All()))
	require.NoError(t, got.Close())
	require.NoError(t, d.Delete("l"))
	require.NoError(t, managers.Flush(m))
	assert.Equal(t, 1, managers.NumObjects(srv), "deleted from the dict, the list is gone")

	// Forgetting a container forgets what only it kept.
	l = must[*managers.List[int]](t)(managers.NewList[int](m))
	require.NoError(t, d.Set("l", l))
	require.NoError(t, l.Close())
	require.NoError(t, d.Close())
	objectsBecome(t, srv, m, 0)

	// A named object lives on.
	q := must[*managers.Queue[int]](t)(managers.NewQueue[int](m, 0, managers.Name("jobs")))
	require.NoError(t, q.Put(1))
	require.NoError(t, q.Close())
	objectsBecome(t, srv, m, 1)
	q = must[*managers.Queue[int]](t)(managers.NewQueue[int](m, 0, managers.Name("jobs")))
	assert.Equal(t, 1, must[int](t)(q.Get()))
}

// childMakes makes objects and ends, holding them.
func childMakes(m *managers.Manager) error {
	for range 5 {
		d, err := managers.NewDict[string, int](m)
		if err != nil {
			return err
		}
		if err := d.Set("a", 1); err != nil {
			return err
		}
	}
	return nil
}

// childHolds uses a dict it was given, then ends.
func childHolds(d *managers.Dict[string, int]) error { return d.Set("child", 1) }

func TestProcessEndLetsGo(t *testing.T) {
	srv, m := inProcess(t)
	forEachMethod(t, func(t *testing.T, method mp.StartMethod) {
		run(t, method, childMakes, m)
	})
	t.Cleanup(func() { objectsBecome(t, srv, m, 0) })
}

// TestExportedLives: a proxy given to a child keeps its object while the
// parent lives, even if the parent closes its own proxy before the child
// uses it.
func TestExportedLives(t *testing.T) {
	srv, m := inProcess(t)
	d := must[*managers.Dict[string, int]](t)(managers.NewDict[string, int](m))
	in, out, err := mp.Pipe(false)
	require.NoError(t, err)
	defer in.Close()
	p := start(t, mp.NewProcess(childUses, d, in))
	require.NoError(t, in.Close())
	require.NoError(t, d.Close())
	require.NoError(t, managers.Flush(m))
	require.NoError(t, out.Send(true)) // now use it
	require.NoError(t, out.Close())
	require.NoError(t, p.Join())
	assert.Equal(t, 1, managers.NumObjects(srv), "kept for the child, until this process's session ends")
}

// childUses waits for word, then uses d.
func childUses(d *managers.Dict[string, int], word *mp.Conn) error {
	var go_ bool
	if err := word.Recv(&go_); err != nil {
		return err
	}
	return d.Set("child", 1)
}

func childAcquires(l *managers.Lock) error { return l.Acquire() }

// TestAbandonedLock: a process that ends holding a Lock does not leave it
// locked for ever: the next Acquire takes it over, with ErrOwnerDead.
func TestAbandonedLock(t *testing.T) {
	t.Parallel()
	m := newManager(t)
	l := must[*managers.Lock](t)(managers.NewLock(m))
	run(t, mp.Spawn, childAcquires, l)
	ok, err := l.AcquireTimeout(10 * time.Second)
	assert.True(t, ok)
	assert.ErrorIs(t, err, managers.ErrOwnerDead)
	ok, err = l.AcquireTimeout(0)
	assert.False(t, ok)
	assert.NoError(t, err)
	require.NoError(t, l.Release())
	ok, err = l.AcquireTimeout(0)
	assert.True(t, ok)
	assert.NoError(t, err, "a lock released normally is not abandoned")
}

func childWaitsAtBarrier(b *managers.Barrier, ready *mp.Conn) error {
	go func() {
		// The Wait below is sent before ready: the barrier counts it.
		for {
			if n, _ := b.NWaiting(); n >= 1 {
				_ = ready.Send(true)
				return
			}
			runtime.Gosched()
		}
	}()
	_, err := b.Wait()
	return err
}

// TestBarrierBrokenByDeath: a party killed while it waits breaks the
// barrier for the others.
func TestBarrierBrokenByDeath(t *testing.T) {
	t.Parallel()
	m := newManager(t)
	b := must[*managers.Barrier](t)(managers.NewBarrier(m, 3))
	in, out, err := mp.Pipe(false)
	require.NoError(t, err)
	defer in.Close()
	p := start(t, mp.NewProcess(childWaitsAtBarrier, b, out))
	require.NoError(t, out.Close())
	var ok bool
	require.NoError(t, in.Recv(&ok))
	waited := make(chan error, 1)
	go func() {
		_, err := b.Wait()
		waited <- err
	}()
	require.NoError(t, p.Kill())
	_ = p.Join()
	select {
	case err := <-waited:
		assert.ErrorIs(t, err, managers.ErrBrokenBarrier)
	case <-time.After(10 * time.Second):
		t.Fatal("the barrier did not break")
	}
	assert.True(t, must[bool](t)(b.Broken()))
	require.NoError(t, b.Reset())
	assert.False(t, must[bool](t)(b.Broken()))
}

func childGets(q *managers.Queue[int], ready *mp.Conn) error {
	_ = ready.Send(true)
	_, err := q.Get()
	return err
}

// TestKilledGetTakesNothing: a process killed while its Get waits takes
// nothing off the queue.
func TestKilledGetTakesNothing(t *testing.T) {
	t.Parallel()
	m := newManager(t)
	q := must[*managers.Queue[int]](t)(managers.NewQueue[int](m, 0))
	for range 3 {
		in, out, err := mp.Pipe(false)
		require.NoError(t, err)
		p := start(t, mp.NewProcess(childGets, q, out))
		require.NoError(t, out.Close())
		var ok bool
		require.NoError(t, in.Recv(&ok))
		require.NoError(t, in.Close())
		require.NoError(t, p.Kill())
		_ = p.Join()
	}
	require.NoError(t, q.Put(42))
	assert.Equal(t, 42, must[int](t)(q.GetTimeout(10*time.Second)))
}
