package mp_test

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
)

func init() {
	ipcTargets = append(ipcTargets, handOn, handOnClosed, holdItems, simplePut, floodThenWait)
}

// handOn starts a grandchild that floods q, and returns without joining
// it: its exit joins it, and passes up what it handed over.
func handOn(q *mp.Queue, n, size int) error {
	return mp.NewProcess(flood, q, n, size).Start()
}

// handOnClosed is handOn in a child that closes q before it returns: it
// no longer holds q when the grandchild hands its items over, and passes
// them up as they are.
func handOnClosed(q *mp.Queue, n, size int) error {
	if err := mp.NewProcess(flood, q, n, size).Start(); err != nil {
		return err
	}
	return q.Close()
}

// holdItems gets items and marks them done, until killed; with hold, it
// gets one item, and waits to be killed without marking it done.
func holdItems(q *mp.JoinableQueue, hold bool) error {
	if hold {
		var v int
		if err := q.Get(&v); err != nil {
			return err
		}
		for {
			time.Sleep(time.Hour) // until killed
		}
	}
	for {
		var v int
		if err := q.Get(&v); err != nil {
			return err
		}
		if err := q.TaskDone(); err != nil {
			return err
		}
	}
}

// simplePut puts n items of size bytes on a SimpleQueue.
func simplePut(q *mp.SimpleQueue, n, size int) error {
	for i := range n {
		if err := q.Put(item{i, strings.Repeat("s", size)}); err != nil {
			return err
		}
	}
	return nil
}

// TestSimpleQueueProcesses: a SimpleQueue's Put writes the ring itself,
// waiting for room, items larger than the ring included.
func TestSimpleQueueProcesses(t *testing.T) {
	t.Parallel()
	q, err := mp.NewSimpleQueue()
	require.NoError(t, err)
	t.Cleanup(func() { q.Close() })
	sizes := []int{10, 100 << 10, 3 << 20}
	for _, size := range sizes {
		start(t, mp.NewProcess(simplePut, q, 5, size))
	}
	counts := map[int]int{}
	for range 5 * len(sizes) {
		var it item
		require.NoError(t, q.Get(&it))
		require.Equal(t, counts[len(it.S)], it.N, "in order per producer")
		counts[len(it.S)]++
	}
	assert.True(t, q.Empty())
}

// TestQueueMaxsize: a bounded queue's capacity does not depend on any
// pipe's size.
func TestQueueMaxsize(t *testing.T) {
	t.Parallel()
	const n = 10000
	q := newQueue(t, n)
	for i := range n {
		require.NoError(t, q.PutNoWait(i))
	}
	assert.ErrorIs(t, q.PutNoWait(n), mp.ErrFull)
	assert.True(t, q.Full())
	assert.Equal(t, n, q.Qsize())
	for i := range n {
		var v int
		require.NoError(t, q.GetNoWait(&v))
		require.Equal(t, i, v)
	}
	assert.True(t, q.Empty())
}

// TestQueueHandover: children that put more than the ring holds, and
// items larger than it, exit while the parent joins them before getting
// (Python's bpo-29797 deadlock): Join returns and nothing is lost, also
// for a grandchild whose parent returned without joining it, and whose
// parent no longer holds the queue.
func TestQueueHandover(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		target  any
		n, size int
	}{
		{"small", flood, 3000, 1000},
		{"larger than the ring", flood, 8, 1500 << 10},
		{"grandchild", handOn, 500, 2000},
		{"grandchild via a closed queue", handOnClosed, 20, 100 << 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := newQueue(t, 0)
			p := start(t, mp.NewProcess(tt.target, q, tt.n, tt.size))
			require.NoError(t, p.JoinTimeout(time.Minute))
			for i := range tt.n {
				var it item
				require.NoError(t, q.GetTimeout(&it, time.Minute), "item %d", i)
				require.Equal(t, i, it.N)
				require.Len(t, it.S, tt.size)
			}
			assert.True(t, q.Empty())
		})
	}
}

// TestQueueHandoverLost: items that a child hands over to a parent that
// has closed the queue are lost, and Join says how many.
func TestQueueHandoverLost(t *testing.T) {
	t.Parallel()
	q, err := mp.NewQueue(0)
	require.NoError(t, err)
	const n = 40
	childGate, gate, err := mp.Pipe(false) // the child reads, the parent ends it
	require.NoError(t, err)
	t.Cleanup(func() { gate.Close() })
	p := start(t, mp.NewProcess(floodThenWait, q, n, 50<<10, childGate))
	childGate.Close()
	// Wait until the ring is full and the rest waits in the child, which
	// keeps it until the parent has closed the queue: a handover before
	// the Close would be adopted, and the Close would then wait for a
	// reader (as Python's join_thread does).
	for q.Qsize() < n {
		require.True(t, p.IsAlive())
		runtime.Gosched()
	}
	require.NoError(t, q.Close())
	require.NoError(t, gate.Close())
	err = p.JoinTimeout(time.Minute)
	require.ErrorIs(t, err, mp.ErrItemsLost)
	var lost int
	_, serr := fmt.Sscanf(err.Error()[strings.Index(err.Error(), "): ")+3:], "%d queue items", &lost)
	require.NoError(t, serr, err.Error())
	assert.Greater(t, lost, 0)
	assert.Less(t, lost, n, "those in the ring are not lost")
	var ee *mp.ExitError
	assert.False(t, errors.As(err, &ee), "the child itself exited well")
}

// floodThenWait floods q, then returns only once its gate ends, so that its
// exit handover comes when its parent says.
func floodThenWait(q *mp.Queue, n, size int, gate *mp.Conn) error {
	if err := flood(q, n, size); err != nil {
		return err
	}
	for {
		if _, err := gate.RecvBytes(); err != nil {
			return nil // the parent closed its end
		}
	}
}

// TestJoinableQueueConsumerKilled: consumers killed while they hold items
// they got do not make Join wait for ever.
func TestJoinableQueueConsumerKilled(t *testing.T) {
	t.Parallel()
	q, err := mp.NewJoinableQueue(0)
	require.NoError(t, err)
	t.Cleanup(func() { q.Close() })
	const n = 2000
	for i := range n {
		require.NoError(t, q.Put(i))
	}
	// One consumer gets an item and holds it; two more work, and one of
	// them is killed on the way.
	holder := start(t, mp.NewProcess(holdItems, q, true))
	for q.Qsize() > n-1 {
		runtime.Gosched()
	}
	w1 := start(t, mp.NewProcess(holdItems, q, false))
	start(t, mp.NewProcess(holdItems, q, false))
	for q.Qsize() > n/2 {
		runtime.Gosched()
	}
	require.NoError(t, w1.Kill())
	require.NoError(t, holder.Kill())
	joined := make(chan error, 1)
	go func() { joined <- q.Join() }()
	select {
	case err := <-joined:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("Join waits for the killed consumers' items")
	}
	assert.True(t, q.Empty())
}

// TestQueueUnmapped: a closed queue's memory is unmapped at once, and an
// unreachable one's once it is collected.
func TestQueueUnmapped(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts the process's mappings in /proc/self/maps, which only Linux has")
	}
	mappings := func() int {
		b, err := os.ReadFile("/proc/self/maps")
		require.NoError(t, err)
		return strings.Count(string(b), "mp-shm")
	}
	before := mappings()
	q, err := mp.NewQueue(0)
	require.NoError(t, err)
	require.NoError(t, q.Put(1))
	assert.Equal(t, before+1, mappings())
	require.NoError(t, q.Close())
	assert.Equal(t, before, mappings())

	func() {
		q, err := mp.NewQueue(0)
		require.NoError(t, err)
		require.NoError(t, q.Put(1))
		var v int
		require.NoError(t, q.Get(&v))
	}()
	deadline := time.Now().Add(30 * time.Second)
	for mappings() > before {
		require.True(t, time.Now().Before(deadline), "an unreachable queue stays mapped")
		runtime.GC()
		runtime.Gosched()
	}
}
