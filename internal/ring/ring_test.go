package ring

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
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

	"github.com/go-mp/mp/internal/robust"
	"github.com/go-mp/mp/internal/testchild"
)

var helpers = map[string]func(*os.File, []string) error{
	"put":   putHelper,
	"stall": stallHelper,
	"claim": claimHelper,
}

func TestMain(m *testing.M) {
	testchild.Main(helpers)
	goleak.VerifyTestMain(m)
}

var bg = context.Background()

func newRing(t testing.TB, o Options) *Queue {
	t.Helper()
	if o.Ring == 0 {
		o.Ring = 64 << 10
	}
	q, err := New(o)
	require.NoError(t, err)
	t.Cleanup(func() { q.Close() })
	return q
}

// msg returns message i of the given size: its number, a checksum and a
// pattern.
func msg(i, size int) []byte {
	b := make([]byte, max(size, 12))[:size]
	if size < 12 {
		for j := range b {
			b[j] = byte(i + j)
		}
		return b
	}
	binary.LittleEndian.PutUint32(b, uint32(i))
	r := rand.New(rand.NewPCG(uint64(i), uint64(size)))
	for j := 8; j < size; j++ {
		b[j] = byte(r.Uint32())
	}
	binary.LittleEndian.PutUint32(b[4:], crc32.ChecksumIEEE(b[8:]))
	return b
}

// check verifies a message made by msg and returns its number.
func check(b []byte) (int, error) {
	if len(b) < 12 {
		return -1, nil
	}
	if crc32.ChecksumIEEE(b[8:]) != binary.LittleEndian.Uint32(b[4:]) {
		return 0, fmt.Errorf("corrupt message of %d bytes", len(b))
	}
	return int(binary.LittleEndian.Uint32(b)), nil
}

func args(q *Queue, more ...any) []string {
	f, size := q.File()
	_ = f
	id := q.ID()
	a := []string{hex.EncodeToString(id[:]), strconv.Itoa(size)}
	for _, m := range more {
		a = append(a, fmt.Sprint(m))
	}
	return a
}

func attachArgs(f *os.File, a []string) (*Queue, []int, error) {
	idb, err := hex.DecodeString(a[0])
	if err != nil || len(idb) != 16 {
		return nil, nil, fmt.Errorf("bad id %q", a[0])
	}
	size, _ := strconv.Atoi(a[1])
	q, err := Attach([16]byte(idb), f, size, 0)
	if err != nil {
		return nil, nil, err
	}
	var n []int
	for _, s := range a[2:] {
		v, _ := strconv.Atoi(s)
		n = append(n, v)
	}
	return q, n, nil
}

// putHelper puts messages first..first+n-1 of size bytes, and waits for
// its feeder.
func putHelper(f *os.File, a []string) error {
	q, n, err := attachArgs(f, a)
	if err != nil {
		return err
	}
	for i := n[0]; i < n[0]+n[1]; i++ {
		if err := q.Put(bg, msg(i, n[2]), time.Time{}); err != nil {
			return err
		}
	}
	return q.Close()
}

// stallHelper starts streaming message n[0] of n[1] bytes, writes its first
// chunk and then stops, until killed.
func stallHelper(f *os.File, a []string) error {
	q, n, err := attachArgs(f, a)
	if err != nil {
		return err
	}
	m := msg(n[0], n[1])
	if err := q.lock(bg, time.Time{}); err != nil {
		return err
	}
	s, err := q.claimSlotLocked()
	if err != nil {
		return err
	}
	q.table.Field(s, fEnq).Add(1)
	var st stream
	q.writeLocked([][]byte{m}, &st)
	q.mu.Unlock()
	q.notEmpty.Wake()
	if !st.active {
		return fmt.Errorf("no stream started")
	}
	testchild.Forever()
	return nil
}

// claimHelper gets with a short timeout until it holds part of a frame
// that streams in, says so by putting a message, and waits to be killed.
func claimHelper(f *os.File, a []string) error {
	q, _, err := attachArgs(f, a)
	if err != nil {
		return err
	}
	for !q.claim.active {
		_, err := q.Get(bg, time.Now().Add(10*time.Millisecond))
		if err == nil {
			return fmt.Errorf("got a whole message")
		}
	}
	testchild.Forever()
	return nil
}

func TestPutGetLocal(t *testing.T) {
	t.Parallel()
	q := newRing(t, Options{})
	sizes := []int{0, 1, 7, 8, 9, 100, 4096, 20000, 64<<10 - 8, 64 << 10, 200000}
	for round := range 3 {
		for i, n := range sizes {
			require.NoError(t, q.Put(bg, msg(i, n), time.Time{}))
		}
		qs, err := q.Qsize()
		require.NoError(t, err)
		assert.Equal(t, len(sizes), qs, "round %d", round)
		for i, n := range sizes {
			b, err := q.Get(bg, time.Now().Add(10*time.Second))
			require.NoError(t, err)
			require.Equal(t, msg(i, n), b, "message %d of %d bytes", i, n)
		}
	}
	t0 := time.Now()
	_, err := q.Get(bg, time.Now().Add(50*time.Millisecond))
	assert.ErrorIs(t, err, ErrEmpty)
	assert.GreaterOrEqual(t, time.Since(t0), 50*time.Millisecond)
	_, err = q.Get(bg, time.Now())
	assert.ErrorIs(t, err, ErrEmpty)
	qs, err := q.Qsize()
	require.NoError(t, err)
	assert.Zero(t, qs)
	assert.Zero(t, q.items.Load())
	assert.Equal(t, q.head.Load(), q.tail.Load())
}

func TestOptions(t *testing.T) {
	t.Parallel()
	for _, o := range []Options{{Ring: 1000}, {Ring: 2048}, {Maxsize: -1}, {Maxsize: MaxMaxsize + 1}} {
		_, err := New(o)
		assert.Error(t, err, "%+v", o)
	}
	q := newRing(t, Options{MaxMessage: 10})
	assert.Error(t, q.Put(bg, make([]byte, 11), time.Time{}))
	require.NoError(t, q.Put(bg, make([]byte, 10), time.Time{}))
}

// TestProcesses: producers in other processes, of every size across the
// ring's; each message arrives once, intact, in order per producer.
func TestProcesses(t *testing.T) {
	t.Parallel()
	q := newRing(t, Options{})
	f, _ := q.File()
	sizes := []int{0, 50, 5000, 40000, 150000}
	const n = 40
	var cmds []*exec.Cmd
	for p, size := range sizes {
		cmds = append(cmds, testchild.Start(t, "put", f, args(q, p*1000, n, size)...))
	}
	next := map[int]int{}
	for range len(sizes) * n {
		b, err := q.Get(bg, time.Now().Add(time.Minute))
		require.NoError(t, err)
		i, err := check(b)
		require.NoError(t, err)
		if i < 0 { // a small message
			continue
		}
		p := i / 1000
		require.Equal(t, next[p], i%1000, "producer %d", p)
		require.Len(t, b, sizes[p])
		next[p]++
	}
	for _, c := range cmds {
		require.NoError(t, c.Wait())
	}
	_, err := q.Get(bg, time.Now())
	assert.ErrorIs(t, err, ErrEmpty)
	qs, _ := q.Qsize()
	assert.Zero(t, qs)
}

// TestTimeoutMidMessage: a Get whose deadline passes in the middle of a
// message that streams in keeps what it read; the next Get finishes it.
func TestTimeoutMidMessage(t *testing.T) {
	t.Parallel()
	q := newRing(t, Options{})
	f, _ := q.File()
	big := 1 << 20
	cmd := testchild.Start(t, "stall", f, args(q, 7, big)...)
	waitFor(t, q.notEmpty, func() bool { return q.sWriter.Load() != 0 })
	_, err := q.Get(bg, time.Now().Add(200*time.Millisecond))
	assert.ErrorIs(t, err, ErrEmpty)
	assert.True(t, q.claim.active, "claimed")
	assert.Equal(t, 64<<10-8, len(q.claim.buf))
	// The writer is stuck for good: kill it. The reader drops the message
	// (counted lost) and the queue goes on.
	require.NoError(t, cmd.Process.Kill())
	require.NoError(t, q.Put(bg, msg(8, 100), time.Time{}))
	b, err := q.Get(bg, time.Now().Add(10*time.Second))
	require.NoError(t, err)
	assert.Equal(t, msg(8, 100), b)
	assert.False(t, q.claim.active)
	assert.Equal(t, uint64(1), q.lost.Load())
	_ = cmd.Wait()
}

// TestWriterDies: a producer killed in the middle of a message it streams
// in: a reader that has not claimed it never sees it; one that has drops
// it. Either way the next message arrives whole.
func TestWriterDies(t *testing.T) {
	t.Parallel()
	for _, claimed := range []bool{false, true} {
		t.Run(fmt.Sprint("claimed=", claimed), func(t *testing.T) {
			t.Parallel()
			q := newRing(t, Options{Joinable: true})
			f, _ := q.File()
			require.NoError(t, q.Put(bg, msg(1, 10), time.Time{}))
			cmd := testchild.Start(t, "stall", f, args(q, 2, 1<<20)...)
			b, err := q.Get(bg, time.Now().Add(time.Minute))
			require.NoError(t, err)
			assert.Equal(t, msg(1, 10), b)
			require.NoError(t, q.TaskDone())
			waitFor(t, q.notEmpty, func() bool { return q.sWriter.Load() != 0 })
			if claimed {
				_, err = q.Get(bg, time.Now().Add(20*time.Millisecond))
				require.ErrorIs(t, err, ErrEmpty)
				require.True(t, q.claim.active)
			}
			require.NoError(t, cmd.Process.Kill())
			_ = cmd.Wait()
			require.NoError(t, q.Put(bg, msg(3, 300000), time.Time{}))
			t0 := time.Now()
			b, err = q.Get(bg, time.Now().Add(time.Minute))
			require.NoError(t, err)
			assert.Equal(t, msg(3, 300000), b)
			assert.Less(t, time.Since(t0), 5*time.Second)
			require.NoError(t, q.TaskDone())
			// The lost message does not hold Join.
			require.NoError(t, q.Join(bg, time.Now().Add(10*time.Second)))
			assert.Equal(t, uint64(1), q.lost.Load())
			qs, _ := q.Qsize()
			assert.Zero(t, qs)
		})
	}
}

// TestReaderDies: a consumer killed in the middle of a message: the next
// reader drains the rest of it, and gets the next message whole.
func TestReaderDies(t *testing.T) {
	t.Parallel()
	q := newRing(t, Options{Joinable: true})
	f, _ := q.File()
	cmd := testchild.Start(t, "claim", f, args(q)...)
	big := msg(1, 1<<20)
	require.NoError(t, q.Put(bg, big, time.Time{}))
	require.NoError(t, q.Put(bg, msg(2, 1000), time.Time{}))
	waitFor(t, q.notFull, func() bool { return q.sReader.Load() != 0 })
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	b, err := q.Get(bg, time.Now().Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, msg(2, 1000), b)
	require.NoError(t, q.TaskDone())
	require.NoError(t, q.Join(bg, time.Now().Add(10*time.Second)), "the dead reader's message is not waited for")
	q.feed.wait()
	assert.Zero(t, q.sReader.Load())
	assert.Equal(t, uint64(1), q.lost.Load(), "the message the dead reader was reading")
}

// TestCloseMidMessage: Close while this process holds part of a message
// another process streams in: the message is dropped, nothing is torn,
// and other processes go on.
func TestCloseMidMessage(t *testing.T) {
	t.Parallel()
	a := newRing(t, Options{})
	f, _ := a.File()
	// A second handle on the same segment, as another process would have.
	dup := dupFile(t, f)
	cmd := testchild.Start(t, "stall", f, args(a, 1, 1<<20)...)
	waitFor(t, a.notEmpty, func() bool { return a.sWriter.Load() != 0 })
	_, err := a.Get(bg, time.Now().Add(100*time.Millisecond))
	require.ErrorIs(t, err, ErrEmpty)
	require.True(t, a.claim.active)
	id := a.ID()
	require.NoError(t, a.Close())
	b, err := Attach(id, dup, offRing+64<<10, 0)
	require.NoError(t, err)
	defer b.Close()
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	require.NoError(t, b.Put(bg, msg(2, 70000), time.Time{}))
	got, err := b.Get(bg, time.Now().Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, msg(2, 70000), got)
	_, err = a.Get(bg, time.Time{})
	assert.ErrorIs(t, err, ErrClosed)
}

// TestBounded: capacity counts backlogs, is reserved at Put, and a dead
// producer's backlog gives it back.
func TestBounded(t *testing.T) {
	t.Parallel()
	q := newRing(t, Options{Maxsize: 5000, Ring: 4096})
	// Far more than the ring holds: they wait in the backlog, and count.
	for i := range 5000 {
		require.NoError(t, q.Put(bg, msg(i, 20), time.Now()))
	}
	t0 := time.Now()
	assert.ErrorIs(t, q.Put(bg, msg(0, 1), time.Now()), ErrFull)
	assert.ErrorIs(t, q.Put(bg, msg(0, 1), time.Now().Add(100*time.Millisecond)), ErrFull)
	assert.GreaterOrEqual(t, time.Since(t0), 100*time.Millisecond)
	qs, _ := q.Qsize()
	assert.Equal(t, 5000, qs)
	for i := range 5000 {
		b, err := q.Get(bg, time.Now().Add(time.Minute))
		require.NoError(t, err)
		require.Equal(t, msg(i, 20), b)
	}

	// A record with a backlog whose owner is dead holds places until the
	// death is noticed.
	require.NoError(t, q.lock(bg, time.Time{}))
	s, err := q.table.Claim(q.mu, robust.Self()^0x55555555)
	require.NoError(t, err)
	q.table.Field(s, fEnq).Store(5000)
	q.mu.Unlock()
	t0 = time.Now()
	require.NoError(t, q.Put(bg, msg(1, 1), time.Now().Add(10*time.Second)))
	assert.Less(t, time.Since(t0), 5*time.Second)
	assert.Equal(t, uint64(5000), q.lost.Load())
}

// TestHandover: an exiting process's backlog comes out of the queue's
// accounting whole, a stream it was writing included, and goes back in
// where it is adopted.
func TestHandover(t *testing.T) {
	q := newRing(t, Options{Joinable: true, Ring: 4096})
	big := msg(0, 100000)
	require.NoError(t, q.Put(bg, big, time.Time{}))
	for i := 1; i < 10; i++ {
		require.NoError(t, q.Put(bg, msg(i, 1000), time.Time{}))
	}
	waitFor(t, q.notEmpty, func() bool { return q.sWriter.Load() != 0 })
	feeding.exiting.Store(true)
	defer feeding.exiting.Store(false)
	spills, lost := Flush(1 << 30)
	feeding.exiting.Store(false)
	q.feed.mu.Lock()
	q.feed.stuck = false
	q.feed.mu.Unlock()
	require.Len(t, spills, 1)
	assert.Zero(t, lost)
	assert.Equal(t, 10, spills[0].Count())
	assert.Zero(t, q.tail.Load(), "the stream was cut off")
	qs, _ := q.Qsize()
	assert.Zero(t, qs)
	// Adopted, they are put again: all arrive, and Join counts them once.
	assert.Zero(t, Adopt(spills, false))
	got, err := q.Get(bg, time.Now().Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, big, got)
	for i := 1; i < 10; i++ {
		got, err := q.Get(bg, time.Now().Add(time.Minute))
		require.NoError(t, err)
		assert.Equal(t, msg(i, 1000), got)
	}
	for range 10 {
		require.NoError(t, q.TaskDone())
	}
	assert.ErrorIs(t, q.TaskDone(), ErrTaskDone)
	require.NoError(t, q.Join(bg, time.Now().Add(time.Second)))

	// A spill for a queue no one holds is lost, or forwarded.
	other := [16]byte{1}
	assert.Equal(t, 10, Adopt([]Spill{{Queue: other, Frames: spills[0].Frames}}, false))
	assert.Zero(t, Adopt([]Spill{{Queue: other, Frames: spills[0].Frames}}, true))
	ForwardLost(2)
	fw, lost := Flush(1 << 30)
	feeding.exiting.Store(false)
	require.Len(t, fw, 1)
	assert.Equal(t, other, fw[0].Queue)
	assert.Equal(t, 2, lost)
	ForwardLost(0)
	Adopt([]Spill{{Queue: other, Frames: spills[0].Frames}}, true)
	fw, lost = Flush(10) // over budget
	feeding.exiting.Store(false)
	assert.Empty(t, fw)
	assert.Equal(t, 10, lost)
}

// TestConcurrentLocal: goroutines put and get at once, across sizes.
func TestConcurrentLocal(t *testing.T) {
	t.Parallel()
	q := newRing(t, Options{Ring: 16 << 10})
	const producers, n = 4, 300
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(p), 1))
			for i := range n {
				if err := q.Put(bg, msg(p*1000+i, 12+r.IntN(20000)), time.Time{}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	seen := map[int]bool{}
	var mu sync.Mutex
	var cg sync.WaitGroup
	for range 3 {
		cg.Go(func() {
			for {
				b, err := q.Get(bg, time.Now().Add(2*time.Second))
				if err == ErrEmpty {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				i, err := check(b)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[i] {
					t.Errorf("message %d twice", i)
				}
				seen[i] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	cg.Wait()
	assert.Len(t, seen, producers*n)
}

// waitFor waits until cond holds, looking each time s changes (or every
// robust.Interval).
func waitFor(t *testing.T, s *robust.Seq, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		v := s.Load()
		if cond() {
			return
		}
		require.True(t, time.Now().Before(deadline), "condition not met")
		s.Wait(v, deadline, nil)
	}
}

func TestCorruptHeader(t *testing.T) {
	t.Parallel()
	q := newRing(t, Options{})
	require.NoError(t, q.Put(bg, []byte("hello"), time.Time{}))
	q.ring[0] ^= 1
	_, err := q.Get(bg, time.Now())
	assert.ErrorIs(t, err, ErrCorrupt)
	_, err = Attach([16]byte{9}, dupFile(t, mustFile(q)), 10, 0)
	assert.ErrorIs(t, err, ErrCorrupt)
	if runtime.GOOS != "windows" {
		bad := dupFile(t, mustFile(q))
		q.mem[hMagic] ^= 1
		_, err = Attach([16]byte{9}, bad, offRing+64<<10, 0)
		assert.ErrorIs(t, err, ErrCorrupt)
		q.mem[hMagic] ^= 1
	}
	_ = bytes.Equal
}

func mustFile(q *Queue) *os.File {
	f, _ := q.File()
	return f
}
