package robust

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp/internal/shm"
	"github.com/go-mp/mp/internal/testchild"
)

// The layout of the segment of the Sem, Cond, Event and Barrier tests.
const (
	slots     = 8
	syncReady = 0  // children that are ready
	syncSeq   = 8  // a Seq the children wake when ready
	syncEvent = 16 // an Event
	syncSem   = 64
	syncCond  = syncSem + 4096
	syncBar   = syncCond + 4096
	syncSize  = syncBar + 4096
)

func init() {
	helpers["semhold"] = semHold
	helpers["barwait"] = barWait
	helpers["condwait"] = condWait
	helpers["eventset"] = eventSet
}

func newSyncSegment(t testing.TB) *shm.Segment {
	t.Helper()
	s, err := shm.New(syncSize)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func attachSync(f *os.File) ([]byte, error) {
	s, err := shm.Attach(f, syncSize)
	if err != nil {
		return nil, err
	}
	return s.Bytes(), nil
}

// ready tells the parent that this child is ready.
func ready(mem []byte) { count(mem, syncReady, syncSeq) }

// waitSyncReady waits until n children are ready.
func waitSyncReady(t *testing.T, mem []byte, n uint64) {
	t.Helper()
	waitCount(t, mem, syncReady, syncSeq, n, "children did not get ready")
}

// semHold acquires args[0] units and waits to be killed.
func semHold(f *os.File, args []string) error {
	mem, err := attachSync(f)
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(args[0])
	s := NewSem(mem, syncSem, slots)
	for range n {
		if _, err := s.Acquire(context.Background(), time.Time{}); err != nil {
			return err
		}
	}
	ready(mem)
	time.Sleep(time.Hour) // until killed (select {} is a deadlock to the runtime on Windows)
	return nil
}

// barWait waits at the barrier and waits to be killed.
func barWait(f *os.File, _ []string) error {
	mem, err := attachSync(f)
	if err != nil {
		return err
	}
	b := NewBarrier(mem, syncBar, slots)
	ready(mem)
	_, err = b.Wait(context.Background(), time.Time{})
	if err != nil {
		return err
	}
	time.Sleep(time.Hour) // until killed (select {} is a deadlock to the runtime on Windows)
	return nil
}

// condWait waits on the condition (with no lock: the test has nothing to
// protect) and waits to be killed.
func condWait(f *os.File, _ []string) error {
	mem, err := attachSync(f)
	if err != nil {
		return err
	}
	c := NewCond(mem, syncCond, slots)
	if err := c.Enter(); err != nil {
		return err
	}
	ready(mem)
	if err := c.Wait(context.Background(), time.Time{}); err != nil {
		return err
	}
	time.Sleep(time.Hour) // until killed (select {} is a deadlock to the runtime on Windows)
	return nil
}

// eventSet sets the event.
func eventSet(f *os.File, _ []string) error {
	mem, err := attachSync(f)
	if err != nil {
		return err
	}
	NewEvent(mem, syncEvent).Set()
	return nil
}

func TestSemLocal(t *testing.T) {
	t.Parallel()
	mem := newSyncSegment(t).Bytes()
	InitSem(mem, syncSem, 2, -1)
	s := NewSem(mem, syncSem, slots)
	ctx := context.Background()
	assert.Equal(t, 2, s.Value())
	for range 2 {
		rec, err := s.Acquire(ctx, time.Time{})
		require.NoError(t, err)
		assert.False(t, rec)
	}
	assert.Equal(t, 0, s.Value())
	assert.Equal(t, 2, s.Held())
	_, err := s.Acquire(ctx, time.Now())
	assert.ErrorIs(t, err, ErrTimeout)
	t0 := time.Now()
	_, err = s.Acquire(ctx, time.Now().Add(100*time.Millisecond))
	assert.ErrorIs(t, err, ErrTimeout)
	assert.GreaterOrEqual(t, time.Since(t0), 100*time.Millisecond)
	cctx, cancel := context.WithCancel(ctx)
	go cancel()
	_, err = s.Acquire(cctx, time.Time{})
	assert.ErrorIs(t, err, context.Canceled)

	// A waiter gets a unit released by another goroutine.
	got := make(chan error, 1)
	go func() {
		_, err := s.Acquire(ctx, time.Now().Add(time.Minute))
		got <- err
	}()
	require.NoError(t, s.Release())
	require.NoError(t, <-got)
	for range 3 {
		require.NoError(t, s.Release())
	}
	assert.Equal(t, 3, s.Value(), "no bound: the value may exceed the initial one")
	assert.Equal(t, 0, s.Held())

	// Consume drops the units held without giving them back.
	_, err = s.Acquire(ctx, time.Time{})
	require.NoError(t, err)
	s.Consume()
	assert.Equal(t, 0, s.Held())
	assert.Equal(t, 2, s.Value())
}

func TestSemBounded(t *testing.T) {
	t.Parallel()
	mem := newSyncSegment(t).Bytes()
	InitSem(mem, syncSem, 1, 1)
	s := NewSem(mem, syncSem, slots)
	assert.Equal(t, 1, s.Max())
	assert.ErrorIs(t, s.Release(), ErrTooManyReleases)
	_, err := s.Acquire(context.Background(), time.Time{})
	require.NoError(t, err)
	require.NoError(t, s.Release())
	assert.ErrorIs(t, s.Release(), ErrTooManyReleases)
	assert.Equal(t, 1, s.Value())

	// A bound of zero refuses every release.
	mem = newSyncSegment(t).Bytes()
	InitSem(mem, syncSem, 0, 0)
	s = NewSem(mem, syncSem, slots)
	assert.Equal(t, 0, s.Max())
	assert.ErrorIs(t, s.Release(), ErrTooManyReleases)
	mem = newSyncSegment(t).Bytes()
	InitSem(mem, syncSem, 0, -1)
	assert.Equal(t, -1, NewSem(mem, syncSem, slots).Max())
}

// TestSemDeadHolder: units held by a dead process are given back to the
// acquirer that finds none free, which is told; a bounded semaphore never
// goes past its bound.
func TestSemDeadHolder(t *testing.T) {
	t.Parallel()
	for _, bound := range []int{-1, 2} {
		mem := newSyncSegment(t).Bytes()
		InitSem(mem, syncSem, 0, bound)
		s := NewSem(mem, syncSem, slots)
		s.lock()
		slot, err := s.tab.Claim(s.m, deadID())
		require.NoError(t, err)
		s.m.Stage(s.tab.FieldOff(slot, 0), 3)
		s.m.Commit()
		s.m.Unlock()
		for i, wait := range []time.Duration{0, time.Second} {
			t0 := time.Now()
			rec, err := s.Acquire(context.Background(), time.Now().Add(wait))
			require.NoError(t, err, "bound %d, acquire %d", bound, i)
			assert.True(t, rec)
			assert.Less(t, time.Since(t0), time.Second)
		}
		want := 1
		if bound == 2 {
			want = 0 // three given back, clamped to the bound of two
		}
		assert.Equal(t, want, s.Value(), "bound %d", bound)
		assert.Equal(t, -1, s.tab.Find(deadID()), "the dead record is freed")
		assert.Equal(t, 2, s.Held())
	}
}

// TestSemKilledHolder: a child holding both units of a semaphore is killed;
// this process gets them within a second and is told.
func TestSemKilledHolder(t *testing.T) {
	t.Parallel()
	seg := newSyncSegment(t)
	mem := seg.Bytes()
	InitSem(mem, syncSem, 2, 2)
	s := NewSem(mem, syncSem, slots)
	cmd := testchild.Start(t, "semhold", seg.File(), "2")
	waitSyncReady(t, mem, 1)
	assert.Equal(t, 0, s.Value())
	require.NoError(t, cmd.Process.Kill())
	t0 := time.Now()
	for range 2 {
		rec, err := s.Acquire(context.Background(), time.Now().Add(time.Minute))
		require.NoError(t, err)
		assert.True(t, rec)
	}
	assert.Less(t, time.Since(t0), time.Second)
	require.NoError(t, s.Release())
	require.NoError(t, s.Release())
	assert.ErrorIs(t, s.Release(), ErrTooManyReleases)
}

func TestEventLocal(t *testing.T) {
	t.Parallel()
	seg := newSyncSegment(t)
	mem := seg.Bytes()
	e := NewEvent(mem, syncEvent)
	ctx := context.Background()
	assert.False(t, e.IsSet())
	assert.ErrorIs(t, e.Wait(ctx, time.Now()), ErrTimeout)
	t0 := time.Now()
	assert.ErrorIs(t, e.Wait(ctx, time.Now().Add(100*time.Millisecond)), ErrTimeout)
	assert.GreaterOrEqual(t, time.Since(t0), 100*time.Millisecond)
	cctx, cancel := context.WithCancel(ctx)
	go cancel()
	assert.ErrorIs(t, e.Wait(cctx, time.Time{}), context.Canceled)

	// Goroutines here and the set from a child.
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { assert.NoError(t, e.Wait(ctx, time.Now().Add(time.Minute))) })
	}
	c := testchild.Start(t, "eventset", seg.File())
	wg.Wait()
	require.NoError(t, c.Wait())
	assert.True(t, e.IsSet())
	assert.NoError(t, e.Wait(ctx, time.Now()))
	e.Clear()
	assert.False(t, e.IsSet())
}

func TestCondLocal(t *testing.T) {
	t.Parallel()
	mem := newSyncSegment(t).Bytes()
	c := NewCond(mem, syncCond, slots)
	ctx := context.Background()
	assert.Equal(t, 0, c.Notify(1), "no waiter")

	// A wait that times out is no longer counted.
	require.NoError(t, c.Enter())
	assert.Equal(t, 1, c.Waiting())
	assert.ErrorIs(t, c.Wait(ctx, time.Now().Add(20*time.Millisecond)), ErrTimeout)
	assert.Equal(t, 0, c.Waiting())
	assert.Equal(t, 0, c.Notify(1))

	// Six waiters: Notify(2) wakes two, Notify(10) the other four.
	var mu sync.Mutex // the condition's lock, as the caller holds it
	woken := make(chan struct{}, 6)
	var wg sync.WaitGroup
	for range 6 {
		mu.Lock()
		require.NoError(t, c.Enter())
		mu.Unlock()
		wg.Go(func() {
			if assert.NoError(t, c.Wait(ctx, time.Now().Add(time.Minute))) {
				woken <- struct{}{}
			}
		})
	}
	assert.Equal(t, 2, c.Notify(2))
	<-woken
	<-woken
	assert.Equal(t, 4, c.Waiting())
	assert.Equal(t, 4, c.Notify(10))
	wg.Wait()
	assert.Len(t, woken, 4)
	assert.Equal(t, 0, c.Notify(3))
}

// TestCondDeadWaiter: notifications go to live waiters only.
func TestCondDeadWaiter(t *testing.T) {
	t.Parallel()
	seg := newSyncSegment(t)
	mem := seg.Bytes()
	c := NewCond(mem, syncCond, slots)
	_, _ = c.m.Lock(context.Background(), time.Time{})
	slot, err := c.tab.Claim(c.m, deadID())
	c.m.Unlock()
	require.NoError(t, err)
	c.tab.Field(slot, 0).Store(3 << 32) // three waiters of a dead process

	cmd := testchild.Start(t, "condwait", seg.File())
	waitSyncReady(t, mem, 1)
	assert.Equal(t, 4, c.Waiting())
	assert.Equal(t, 1, c.Notify(1))
	assert.Equal(t, uint64(3<<32), c.tab.Field(slot, 0).Load(), "the dead waiters are not counted")
	// The child takes its notification and waits to be killed; a killed
	// waiter is not counted either.
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	cmd = testchild.Start(t, "condwait", seg.File())
	waitSyncReady(t, mem, 2)
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	assert.Equal(t, 0, c.Notify(5))
}

func TestBarrierLocal(t *testing.T) {
	t.Parallel()
	mem := newSyncSegment(t).Bytes()
	const parties, passes = 5, 20
	InitBarrier(mem, syncBar, parties)
	b := NewBarrier(mem, syncBar, slots)
	ctx := context.Background()
	assert.Equal(t, parties, b.Parties())

	// Lockstep: every pass has indices 0..parties-1, and no one starts a
	// pass before all have finished the previous one.
	var mu sync.Mutex
	arrived := make([]int, passes)
	indices := make([]map[int]bool, passes)
	for i := range indices {
		indices[i] = map[int]bool{}
	}
	var wg sync.WaitGroup
	for range parties {
		wg.Go(func() {
			for p := range passes {
				mu.Lock()
				arrived[p]++
				mu.Unlock()
				i, err := b.Wait(ctx, time.Now().Add(time.Minute))
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				assert.Equal(t, parties, arrived[p], "pass %d", p)
				indices[p][i] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for p := range passes {
		assert.Len(t, indices[p], parties, "pass %d", p)
	}
	assert.Equal(t, 0, b.NWaiting())

	// A timeout breaks it for everyone, until Reset.
	_, err := b.Wait(ctx, time.Now().Add(20*time.Millisecond))
	assert.ErrorIs(t, err, ErrTimeout)
	assert.True(t, b.Broken())
	_, err = b.Wait(ctx, time.Time{})
	assert.ErrorIs(t, err, ErrBroken)
	b.Reset()
	assert.False(t, b.Broken())

	// Abort and Reset end the waits of those inside.
	for _, end := range []func(){b.Abort, b.Reset} {
		errs := make(chan error, 2)
		for range 2 {
			go func() {
				_, err := b.Wait(ctx, time.Now().Add(time.Minute))
				errs <- err
			}()
		}
		for b.NWaiting() < 2 {
			b.seq.Wait(b.seq.Load(), time.Now().Add(10*time.Millisecond), nil)
		}
		end()
		assert.ErrorIs(t, <-errs, ErrBroken)
		assert.ErrorIs(t, <-errs, ErrBroken)
		b.Reset()
	}
	one := make(chan int, parties)
	for range parties {
		go func() {
			i, err := b.Wait(ctx, time.Now().Add(time.Minute))
			assert.NoError(t, err)
			one <- i
		}()
	}
	sum := 0
	for range parties {
		sum += <-one
	}
	assert.Equal(t, parties*(parties-1)/2, sum, "the barrier works again after Reset")
}

// TestBarrierKilledWaiter: a waiter that is killed breaks the barrier for
// the others within a second.
func TestBarrierKilledWaiter(t *testing.T) {
	t.Parallel()
	seg := newSyncSegment(t)
	mem := seg.Bytes()
	InitBarrier(mem, syncBar, 3)
	b := NewBarrier(mem, syncBar, slots)
	cmd := testchild.Start(t, "barwait", seg.File())
	waitSyncReady(t, mem, 1)
	got := make(chan error, 1)
	go func() {
		_, err := b.Wait(context.Background(), time.Now().Add(time.Minute))
		got <- err
	}()
	for b.NWaiting() < 2 {
		b.seq.Wait(b.seq.Load(), time.Now().Add(10*time.Millisecond), nil)
	}
	require.NoError(t, cmd.Process.Kill())
	t0 := time.Now()
	select {
	case err := <-got:
		assert.ErrorIs(t, err, ErrBroken)
	case <-time.After(time.Minute):
		t.Fatal("the barrier did not break")
	}
	assert.Less(t, time.Since(t0), time.Second)
	_ = cmd.Wait()
	assert.Equal(t, 0, int(b.count.Load()), "the dead waiter is taken out")
	b.Reset()
	assert.False(t, b.Broken())
}
