package robust

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-mp/mp/internal/shm"
	"github.com/go-mp/mp/internal/testchild"
)

// The test segment's layout.
const (
	offMutex   = 0
	offA       = MutexSize // a, b, c: journaled together, always equal
	offB       = offA + 8  //
	offC       = offA + 16 //
	offRecov   = offA + 24 // takeovers seen by the children
	offReady   = offA + 32 // children that have started
	offSeq     = offA + 40 // a Seq the children wake
	offFloor   = offA + 48 // BenchmarkMutex floor word
	offJournal = offA + 56 // takeovers by the children that finished a journal
	offTable   = offA + 64 // a Table of 8 records of 2 fields
	offData    = 4096      // two blocks: the one a%2 holds byte(a)
	block      = 8192      //
	segSize    = offData + 2*block
)

var helpers = map[string]func(*os.File, []string) error{
	"hammer": hammer,
	"wake":   wakeOnce,
	"hold":   holdForever,
	"idle":   idle,
	"spin":   spin,
}

func TestMain(m *testing.M) {
	testchild.Main(helpers)
	goleak.VerifyTestMain(m)
}

func newSegment(t testing.TB) *shm.Segment {
	t.Helper()
	s, err := shm.New(segSize)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func attach(f *os.File) ([]byte, error) {
	s, err := shm.Attach(f, segSize)
	if err != nil {
		return nil, err
	}
	return s.Bytes(), nil
}

// deadID is this process's PID with another start time: a process that
// reused a dead one's PID, as Alive sees it.
func deadID() ID { return Self() ^ 0x5a5a5a5a }

// update is the children's work, and the checks' model: under the lock,
// write the next value's data block (bulk data, before the commit), then
// commit a, b and c together with filler entries that widen the window in
// which a kill lands inside Commit.
func update(m *Mutex, mem []byte) {
	k := Uint64At(mem, offA).Load() + 1
	blk := mem[offData+int(k%2)*block:][:block]
	for i := range blk {
		blk[i] = byte(k)
	}
	m.Stage(offA, k)
	for range MaxJournal - 3 {
		m.Stage(offB, k)
	}
	m.Stage(offC, k)
	m.Commit()
}

// consistent checks the state a lock holder sees.
func consistent(mem []byte) error {
	a, b, c := Uint64At(mem, offA).Load(), Uint64At(mem, offB).Load(), Uint64At(mem, offC).Load()
	if a != b || b != c {
		return fmt.Errorf("torn update: a=%d b=%d c=%d", a, b, c)
	}
	if a == 0 {
		return nil
	}
	blk := mem[offData+int(a%2)*block:][:block]
	for i, x := range blk {
		if x != byte(a) {
			return fmt.Errorf("data block of %d torn at byte %d: %d", a, i, x)
		}
	}
	return nil
}

// hammer locks and updates in a loop for ever (until killed), or n times
// (args[0]) and exits.
func hammer(f *os.File, args []string) error {
	mem, err := attach(f)
	if err != nil {
		return err
	}
	n := -1
	if len(args) > 0 && args[0] != "" {
		n, _ = strconv.Atoi(args[0])
	}
	m := NewMutex(mem, offMutex)
	announce(mem)
	for i := 0; n < 0 || i < n; i++ {
		r0 := replays.Load()
		rec, err := m.Lock(context.Background(), time.Now().Add(10*time.Second))
		if err != nil {
			return err
		}
		if rec {
			m.Stage(offRecov, Uint64At(mem, offRecov).Load()+1)
			if replays.Load() > r0 {
				m.Stage(offJournal, Uint64At(mem, offJournal).Load()+1)
			}
			m.Commit()
		}
		if err := consistent(mem); err != nil {
			m.Unlock()
			return err
		}
		update(m, mem)
		m.Unlock()
	}
	return nil
}

// wakeOnce sets a and wakes the Seq.
func wakeOnce(f *os.File, _ []string) error {
	mem, err := attach(f)
	if err != nil {
		return err
	}
	Uint64At(mem, offA).Store(1)
	NewSeq(mem, offSeq).Wake()
	return nil
}

// holdForever takes the lock, says so, and waits to be killed.
func holdForever(f *os.File, _ []string) error {
	mem, err := attach(f)
	if err != nil {
		return err
	}
	m := NewMutex(mem, offMutex)
	if _, err := m.Lock(context.Background(), time.Time{}); err != nil {
		return err
	}
	announce(mem)
	testchild.Forever()
	return nil
}

// spin takes and releases the lock in a loop until killed.
func spin(f *os.File, _ []string) error {
	mem, err := attach(f)
	if err != nil {
		return err
	}
	m := NewMutex(mem, offMutex)
	announce(mem)
	for {
		if _, err := m.Lock(context.Background(), time.Time{}); err != nil {
			return err
		}
		m.Unlock()
	}
}

// idle waits to be killed.
func idle(*os.File, []string) error { testchild.Forever(); return nil }

// announce says that a child has started (see waitReady).
func announce(mem []byte) { count(mem, offReady, offSeq) }

// waitReady waits until n children have said they started.
func waitReady(t *testing.T, mem []byte, n uint64) {
	t.Helper()
	waitCount(t, mem, offReady, offSeq, n, "children did not start")
}

// count adds one to the counter at off and wakes the Seq at seq.
func count(mem []byte, off, seq int) {
	Uint64At(mem, off).Add(1)
	NewSeq(mem, seq).Wake()
}

// waitCount waits, a minute at most, until the counter at off (which
// count wakes the Seq at seq for) reaches n.
func waitCount(t *testing.T, mem []byte, off, seq int, n uint64, what string) {
	t.Helper()
	s := NewSeq(mem, seq)
	deadline := time.Now().Add(time.Minute)
	for {
		v := s.Load()
		if Uint64At(mem, off).Load() >= n {
			return
		}
		require.True(t, time.Now().Before(deadline), what)
		s.Wait(v, deadline, nil)
	}
}

func TestSelf(t *testing.T) {
	t.Parallel()
	id := Self()
	assert.Equal(t, os.Getpid(), id.PID())
	assert.Equal(t, id, Self())
	assert.True(t, Alive(id))
	assert.False(t, Alive(0))
	assert.False(t, Alive(deadID()), "same PID, another start time: a reused PID")
	got, running, err := identify(os.Getpid())
	require.NoError(t, err)
	assert.True(t, running)
	assert.Equal(t, id, got)
}

// TestAliveChild: a child is alive while it runs, dead once killed even
// before it is reaped (a zombie on Unix, a signalled handle on Windows),
// and its ID stays dead.
func TestAliveChild(t *testing.T) {
	t.Parallel()
	cmd := testchild.Start(t, "idle", nil)
	id, running, err := identify(cmd.Process.Pid)
	require.NoError(t, err)
	require.True(t, running)
	assert.True(t, Alive(id))
	require.NoError(t, cmd.Process.Kill())
	deadline := time.Now().Add(10 * time.Second)
	for Alive(id) {
		// A killed process takes a moment to become a zombie; nothing
		// signals that moment but the wait this test must not do yet.
		require.True(t, time.Now().Before(deadline), "killed child still alive")
		runtime.Gosched()
	}
	_ = cmd.Wait()
	assert.False(t, Alive(id))
}

func TestMutexLocal(t *testing.T) {
	t.Parallel()
	mem := newSegment(t).Bytes()
	m := NewMutex(mem, offMutex)
	ctx := context.Background()
	rec, err := m.Lock(ctx, time.Time{})
	require.NoError(t, err)
	assert.False(t, rec)
	assert.Equal(t, Self(), m.Owner())
	assert.False(t, m.TryLock(), "a goroutine of the holding process")

	t0 := time.Now()
	_, err = m.Lock(ctx, time.Now().Add(100*time.Millisecond))
	assert.ErrorIs(t, err, ErrTimeout)
	assert.GreaterOrEqual(t, time.Since(t0), 100*time.Millisecond)
	_, err = m.Lock(ctx, time.Now())
	assert.ErrorIs(t, err, ErrTimeout)
	cctx, cancel := context.WithCancel(ctx)
	go cancel()
	_, err = m.Lock(cctx, time.Time{})
	assert.ErrorIs(t, err, context.Canceled)
	m.Unlock()
	assert.Equal(t, ID(0), m.Owner())
	require.True(t, m.TryLock())
	m.Unlock()

	// Goroutines exclude each other; the race detector checks the data.
	var wg sync.WaitGroup
	total := 0
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if _, err := m.Lock(ctx, time.Time{}); err != nil {
					t.Error(err)
					return
				}
				total++
				update(m, mem)
				m.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1600, total)
	require.NoError(t, consistent(mem))
	assert.Equal(t, uint64(1600), Uint64At(mem, offA).Load())
	assert.Panics(t, func() {
		_, _ = m.Lock(ctx, time.Time{})
		defer m.Unlock()
		m.Stage(offMutex, 1) // inside the record
	})
}

// TestMutexDeadOwner: a lock whose holder is dead is taken over within
// about Interval, and the taker is told; a journal the holder had recorded
// but only partly applied is applied first.
func TestMutexDeadOwner(t *testing.T) {
	t.Parallel()
	mem := newSegment(t).Bytes()
	m := NewMutex(mem, offMutex)
	// The dead holder committed a=b=c=7: recorded, and applied only to a.
	Uint64At(mem, offMutex+mOwner).Store(uint64(deadID()))
	for i, off := range []int{offA, offB, offC} {
		Uint64At(mem, offMutex+mEntries+16*i).Store(uint64(off))
		Uint64At(mem, offMutex+mEntries+16*i+8).Store(7)
	}
	Uint64At(mem, offA).Store(7)
	Uint32At(mem, offMutex+mJournal).Store(3)
	for i := range 2 {
		blk := mem[offData+i*block:][:block]
		for j := range blk {
			blk[j] = 7
		}
	}
	require.Error(t, consistent(mem))

	t0 := time.Now()
	rec, err := m.Lock(context.Background(), time.Now().Add(time.Second))
	require.NoError(t, err)
	assert.True(t, rec, "the taker learns of the death")
	assert.Less(t, time.Since(t0), time.Second)
	assert.NoError(t, consistent(mem))
	assert.Equal(t, uint64(7), Uint64At(mem, offB).Load())
	assert.Zero(t, Uint32At(mem, offMutex+mJournal).Load())
	m.Unlock()

	// A journal that was not yet recorded (the count still 0) is not
	// applied: the holder died before its Commit.
	Uint64At(mem, offMutex+mOwner).Store(uint64(deadID()))
	Uint64At(mem, offMutex+mEntries+8).Store(99)
	rec, err = m.Lock(context.Background(), time.Now().Add(time.Second))
	require.NoError(t, err)
	assert.True(t, rec)
	assert.Equal(t, uint64(7), Uint64At(mem, offA).Load())
	m.Unlock()
}

// TestMutexProcesses: four processes (three children and this one) update
// under the lock; nothing is lost or torn.
func TestMutexProcesses(t *testing.T) {
	t.Parallel()
	seg := newSegment(t)
	mem := seg.Bytes()
	m := NewMutex(mem, offMutex)
	const children, n = 3, 500
	cmds := make([]*exec.Cmd, children)
	for i := range cmds {
		cmds[i] = testchild.Start(t, "hammer", seg.File(), strconv.Itoa(n))
	}
	for range n {
		_, err := m.Lock(context.Background(), time.Now().Add(time.Minute))
		require.NoError(t, err)
		require.NoError(t, consistent(mem))
		update(m, mem)
		m.Unlock()
	}
	for _, c := range cmds {
		require.NoError(t, c.Wait())
	}
	assert.Equal(t, uint64((children+1)*n), Uint64At(mem, offA).Load())
	assert.NoError(t, consistent(mem))
}

// kills is how many children TestMutexKill kills: tens in go test,
// hundreds with MP_SOAK=1.
func kills() int {
	if os.Getenv("MP_SOAK") != "" {
		return 400
	}
	if testing.Short() {
		return 10
	}
	return 40
}

// TestMutexKill: children update under the lock in a loop and are killed
// at random instants, holding the lock or not, inside Commit or not. After
// each kill this process gets the lock within a second and finds the state
// consistent; the children that take a dead holder's lock over find it
// consistent too (they exit with an error otherwise).
func TestMutexKill(t *testing.T) {
	t.Parallel()
	seg := newSegment(t)
	mem := seg.Bytes()
	m := NewMutex(mem, offMutex)
	const children = 3
	cmds := make([]*exec.Cmd, children)
	for i := range cmds {
		cmds[i] = testchild.Start(t, "hammer", seg.File())
	}
	started := uint64(children)
	waitReady(t, mem, started)
	recovered, journals := 0, 0
	var maxWait time.Duration
	for k := range kills() {
		// A random instant: the children run flat out meanwhile.
		time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		i := k % children
		require.NoError(t, cmds[i].Process.Kill())
		t0 := time.Now()
		r0 := replays.Load()
		rec, err := m.Lock(context.Background(), time.Now().Add(time.Second))
		require.NoError(t, err, "kill %d: lock not recovered in 1 s", k)
		if d := time.Since(t0); d > maxWait {
			maxWait = d
		}
		if rec {
			recovered++
		}
		if replays.Load() > r0 {
			journals++
		}
		require.NoError(t, consistent(mem), "kill %d", k)
		m.Unlock()
		require.Less(t, time.Since(t0), time.Second)
		// Reaped only now: until then the child was a zombie.
		err = cmds[i].Wait()
		var ee *exec.ExitError
		require.True(t, errors.As(err, &ee), "child %d exited by itself: %v", i, err)
		cmds[i] = testchild.Start(t, "hammer", seg.File())
		started++
		waitReady(t, mem, started)
	}
	for _, c := range cmds {
		require.NoError(t, c.Process.Kill())
		_ = c.Wait()
	}
	_, err := m.Lock(context.Background(), time.Now().Add(time.Second))
	require.NoError(t, err)
	require.NoError(t, consistent(mem))
	m.Unlock()
	t.Logf("%d kills, %d updates, taken over from a dead holder: %d times by this process, %d by children, "+
		"of which %d inside Commit (the journal finished); longest Lock after a kill %v",
		kills(), Uint64At(mem, offA).Load(), recovered, Uint64At(mem, offRecov).Load(),
		journals+int(Uint64At(mem, offJournal).Load()), maxWait)
}

// TestMutexHolderKilled: a process that holds the lock is killed; the
// waiter that was waiting for it gets it within 1 s and learns why.
func TestMutexHolderKilled(t *testing.T) {
	t.Parallel()
	seg := newSegment(t)
	mem := seg.Bytes()
	m := NewMutex(mem, offMutex)
	cmd := testchild.Start(t, "hold", seg.File())
	waitReady(t, mem, 1)
	assert.Equal(t, cmd.Process.Pid, m.Owner().PID())
	got := make(chan error, 1)
	go func() {
		rec, err := m.Lock(context.Background(), time.Now().Add(time.Minute))
		if err == nil && !rec {
			err = errors.New("not told of the death")
		}
		got <- err
	}()
	require.NoError(t, cmd.Process.Kill())
	t0 := time.Now()
	select {
	case err := <-got:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("lock not recovered")
	}
	assert.Less(t, time.Since(t0), time.Second)
	m.Unlock()
}

// TestWaitWake: a wait in this process ends when another process wakes it,
// well before its own timeout.
func TestWaitWake(t *testing.T) {
	t.Parallel()
	seg := newSegment(t)
	mem := seg.Bytes()
	s := NewSeq(mem, offSeq)
	old := s.Load()
	// Two goroutines wait: one in the kernel, one behind it.
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for Uint64At(mem, offA).Load() == 0 {
				s.Wait(old, time.Now().Add(time.Minute), nil)
			}
		})
	}
	c := testchild.Start(t, "wake", seg.File())
	wg.Wait()
	require.NoError(t, c.Wait()) // it has woken the Seq by now

	// Wait itself, with a long timeout: only a wake from the child can end
	// it early (Seq.Wait would return every Interval anyway).
	w := Uint32At(mem, offSeq)
	old = w.Load()
	raw := (*uint32)(s.raw)
	done := make(chan time.Duration, 1)
	t0 := time.Now()
	go func() {
		s.waiters.Add(1) // so that Wake makes the system call
		defer s.waiters.Add(^uint32(0))
		for w.Load() == old && time.Since(t0) < 30*time.Second {
			Wait(raw, old, 30*time.Second)
		}
		done <- time.Since(t0)
	}()
	c = testchild.Start(t, "wake", seg.File())
	assert.Less(t, <-done, 20*time.Second)
	require.NoError(t, c.Wait())

	// Timeouts are honoured.
	t0 = time.Now()
	Wait(raw, w.Load(), 50*time.Millisecond)
	assert.GreaterOrEqual(t, time.Since(t0), 40*time.Millisecond)
	t0 = time.Now()
	s.Wait(s.Load(), time.Now().Add(50*time.Millisecond), nil)
	assert.GreaterOrEqual(t, time.Since(t0), 40*time.Millisecond)
	Wait(raw, w.Load(), 0) // returns at once
}

func TestTable(t *testing.T) {
	t.Parallel()
	mem := newSegment(t).Bytes()
	m := NewMutex(mem, offMutex)
	tb := NewTable(mem, offTable, 3, 2)
	_, err := m.Lock(context.Background(), time.Time{})
	require.NoError(t, err)
	defer m.Unlock()
	assert.Equal(t, 0, tb.Len())
	assert.Equal(t, -1, tb.Find(Self()))
	me, err := tb.Claim(m, Self())
	require.NoError(t, err)
	assert.Equal(t, 0, me)
	again, err := tb.Claim(m, Self())
	require.NoError(t, err)
	assert.Equal(t, me, again)
	tb.Field(me, 1).Add(5)

	dead := []ID{deadID(), deadID() ^ 1}
	for i, id := range dead {
		s, err := tb.Claim(m, id)
		require.NoError(t, err)
		assert.Equal(t, i+1, s)
		tb.Field(s, 0).Store(uint64(10 * (i + 1)))
	}
	_, err = tb.Claim(m, deadID()^2)
	assert.ErrorIs(t, err, ErrTableFull)

	// Only the wanted dead record is reaped, its fields folded.
	sum := Uint64At(mem, offA)
	n := tb.Reap(m, func(s int) bool { return tb.Field(s, 0).Load() == 20 }, func(s int) {
		m.Stage(offA, sum.Load()+tb.Field(s, 0).Load())
	})
	assert.Equal(t, 1, n)
	assert.Equal(t, uint64(20), sum.Load())
	assert.Equal(t, ID(0), tb.Owner(2))
	assert.Zero(t, tb.Field(2, 0).Load())
	s, err := tb.Claim(m, deadID()^3)
	require.NoError(t, err)
	assert.Equal(t, 2, s, "a freed record is used again")
	assert.Equal(t, 2, tb.Reap(m, nil, nil))
	assert.Equal(t, me, tb.Find(Self()))
	assert.Equal(t, uint64(5), tb.Field(me, 1).Load(), "the live record is kept")
}

func BenchmarkMutex(b *testing.B) {
	seg := newSegment(b)
	mem := seg.Bytes()
	m := NewMutex(mem, offMutex)
	ctx := context.Background()
	b.Run("uncontended", func(b *testing.B) {
		// The floor: a sync.Mutex and an atomic store in the same memory.
		var mu sync.Mutex
		w := Uint64At(mem, offFloor)
		var floor, ours time.Duration
		for b.Loop() {
			t0 := time.Now()
			for range 1000 {
				mu.Lock()
				w.Store(1)
				mu.Unlock()
			}
			t1 := time.Now()
			for range 1000 {
				_, _ = m.Lock(ctx, time.Time{})
				m.Unlock()
			}
			floor, ours = floor+t1.Sub(t0), ours+time.Since(t1)
		}
		b.ReportMetric(float64(ours.Nanoseconds())/float64(b.N*1000), "ns/lock+unlock")
		b.ReportMetric(float64(floor.Nanoseconds())/float64(b.N*1000), "ns/floor")
		b.ReportMetric(float64(ours)/float64(floor), "x-floor")
	})
	b.Run("processes", func(b *testing.B) {
		// Another process takes and releases the lock in a loop.
		testchild.Start(b, "spin", seg.File())
		waitReadyB(b, mem)
		t0 := time.Now()
		for b.Loop() {
			_, _ = m.Lock(ctx, time.Time{})
			m.Unlock()
		}
		b.ReportMetric(float64(time.Since(t0).Nanoseconds())/float64(b.N), "ns/lock+unlock")
	})
}

func waitReadyB(b *testing.B, mem []byte) {
	s := NewSeq(mem, offSeq)
	for {
		v := s.Load()
		if Uint64At(mem, offReady).Load() > 0 {
			return
		}
		s.Wait(v, time.Time{}, nil)
	}
}

// TestMutexShortWaits: a caller that only tries, or only waits for less
// than Interval, still takes over a dead holder's lock; Unlock and Held
// report whether this process holds it.
func TestMutexShortWaits(t *testing.T) {
	t.Parallel()
	mem := newSegment(t).Bytes()
	m := NewMutex(mem, offMutex)
	ctx := context.Background()
	assert.False(t, m.Held())
	assert.False(t, m.Unlock(), "not held")
	for _, wait := range []time.Duration{0, time.Millisecond, 10 * time.Millisecond} {
		Uint64At(mem, offMutex+mOwner).Store(uint64(deadID()))
		assert.False(t, m.TryLock(), "TryLock never takes over")
		rec, err := m.Lock(ctx, time.Now().Add(wait))
		require.NoError(t, err, wait)
		assert.True(t, rec, wait)
		assert.True(t, m.Held())
		assert.True(t, m.Unlock())
		assert.False(t, m.Unlock(), "released already")
	}
	// A live holder (this process) is not taken over by a try.
	require.True(t, m.TryLock())
	_, err := m.Lock(ctx, time.Now())
	assert.ErrorIs(t, err, ErrTimeout)
	// Nor by a goroutine that finds another waiting at the gate.
	waiting := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		close(waiting)
		_, err := m.Lock(ctx, time.Now().Add(time.Minute))
		if err == nil {
			m.Unlock()
		}
		done <- err
	}()
	<-waiting
	_, err = m.Lock(ctx, time.Now())
	assert.ErrorIs(t, err, ErrTimeout)
	assert.True(t, m.Unlock())
	require.NoError(t, <-done)
}

// TestMutexNoStarvation: two children take and release the lock flat out;
// this process, waiting, still gets it every time well within a second (a
// waiter that waited over starveAfter has the lock kept for it).
func TestMutexNoStarvation(t *testing.T) {
	t.Parallel()
	seg := newSegment(t)
	mem := seg.Bytes()
	m := NewMutex(mem, offMutex)
	for range 2 {
		testchild.Start(t, "hammer", seg.File())
	}
	waitReady(t, mem, 2)
	var longest time.Duration
	for range 50 {
		t0 := time.Now()
		_, err := m.Lock(context.Background(), time.Now().Add(time.Second))
		require.NoError(t, err, "starved for a second")
		longest = max(longest, time.Since(t0))
		require.NoError(t, consistent(mem))
		update(m, mem)
		m.Unlock()
		assert.NotEqual(t, uint64(Self()), Uint64At(mem, offMutex+mStarver).Load(), "the claim is given up with the lock")
	}
	t.Logf("longest wait %v", longest)
}
