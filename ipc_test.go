package mp_test

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
)

// ipcTargets are the children of the IPC tests.
var ipcTargets = []any{echo, putRange, getAll, passOn, &pinger{}, flood, consume, decodeElsewhere}

// pipe returns a pair of Conns closed when the test ends.
func pipe(t *testing.T, duplex bool) (*mp.Conn, *mp.Conn) {
	t.Helper()
	a, b, err := mp.Pipe(duplex)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func newQueue(t *testing.T, maxsize int) *mp.Queue {
	t.Helper()
	q, err := mp.NewQueue(maxsize)
	require.NoError(t, err)
	t.Cleanup(func() { q.Close() })
	return q
}

type item struct {
	N int
	S string
}

func TestPipeMessages(t *testing.T) {
	t.Parallel()
	for _, duplex := range []bool{true, false} {
		t.Run(fmt.Sprint("duplex=", duplex), func(t *testing.T) {
			t.Parallel()
			r, w := pipe(t, duplex)
			for _, m := range []string{"a", "b", "cd", ""} {
				require.NoError(t, w.SendBytes([]byte(m)))
			}
			require.NoError(t, w.Send(item{7, "seven"}))
			require.NoError(t, w.Send(item{8, "eight"}))
			require.NoError(t, w.Send("str"))
			for _, m := range []string{"a", "b", "cd", ""} {
				got, err := r.RecvBytes()
				require.NoError(t, err)
				assert.Equal(t, m, string(got))
			}
			var it item
			require.NoError(t, r.Recv(&it))
			assert.Equal(t, item{7, "seven"}, it)
			require.NoError(t, r.Recv(&it))
			assert.Equal(t, item{8, "eight"}, it)
			var s string
			require.NoError(t, r.Recv(&s))
			assert.Equal(t, "str", s)
			if duplex {
				require.NoError(t, r.SendBytes([]byte("back")))
				got, err := w.RecvBytes()
				require.NoError(t, err)
				assert.Equal(t, "back", string(got))
			}
		})
	}
}

func TestPipeMisuse(t *testing.T) {
	t.Parallel()
	r, w := pipe(t, false)
	assert.ErrorIs(t, r.SendBytes([]byte("x")), mp.ErrWrongEnd)
	assert.ErrorIs(t, r.Send(1), mp.ErrWrongEnd)
	_, err := w.RecvBytes()
	assert.ErrorIs(t, err, mp.ErrWrongEnd)
	_, err = w.Poll(0)
	assert.ErrorIs(t, err, mp.ErrWrongEnd)
	var x int
	assert.ErrorIs(t, w.Recv(&x), mp.ErrWrongEnd)

	require.NoError(t, w.Send("not an int"))
	assert.ErrorIs(t, r.Recv(&x), mp.ErrBadMessage)
	assert.Error(t, r.Recv(x), "not a pointer")

	w.SetMaxMessage(10)
	assert.ErrorIs(t, w.SendBytes(make([]byte, 11)), mp.ErrMessageTooLarge)

	require.NoError(t, r.Close())
	require.NoError(t, r.Close())
	_, err = r.RecvBytes()
	assert.ErrorIs(t, err, mp.ErrConnClosed)
	assert.ErrorIs(t, r.Send(1), mp.ErrConnClosed)
}

func TestPipeEOF(t *testing.T) {
	t.Parallel()
	a, b := pipe(t, true)
	require.NoError(t, b.SendBytes([]byte("last")))
	require.NoError(t, b.Close())
	got, err := a.RecvBytes()
	require.NoError(t, err)
	assert.Equal(t, "last", string(got))
	_, err = a.RecvBytes()
	assert.Equal(t, io.EOF, err)
	var v int
	assert.Equal(t, io.EOF, a.Recv(&v))
	ok, err := a.Poll(0)
	require.NoError(t, err)
	assert.True(t, ok, "Poll at end of file")
}

func TestPipePoll(t *testing.T) {
	t.Parallel()
	r, w := pipe(t, false)
	t0 := time.Now()
	ok, err := r.Poll(0)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Less(t, time.Since(t0), 50*time.Millisecond, "Poll(0) waits")

	t0 = time.Now()
	ok, err = r.Poll(100 * time.Millisecond)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.GreaterOrEqual(t, time.Since(t0), 100*time.Millisecond)

	require.NoError(t, w.SendBytes([]byte("x")))
	for range 2 { // Poll consumes nothing
		ok, err = r.Poll(time.Second)
		require.NoError(t, err)
		assert.True(t, ok)
	}
	got, err := r.RecvBytes()
	require.NoError(t, err)
	assert.Equal(t, "x", string(got))

	// A Poll waiting in one goroutine wakes when a message comes.
	done := make(chan bool)
	go func() {
		ok, _ := r.Poll(time.Minute)
		done <- ok
	}()
	require.NoError(t, w.SendBytes(nil))
	assert.True(t, <-done)
}

func TestQueueLocal(t *testing.T) {
	t.Parallel()
	q := newQueue(t, 0)
	assert.True(t, q.Empty())
	for i := range 100 {
		require.NoError(t, q.Put(item{i, fmt.Sprint(i)}))
	}
	assert.Equal(t, 100, q.Qsize())
	assert.False(t, q.Full())
	for i := range 100 {
		var it item
		require.NoError(t, q.Get(&it))
		assert.Equal(t, item{i, fmt.Sprint(i)}, it)
	}
	assert.True(t, q.Empty())

	var it item
	t0 := time.Now()
	assert.ErrorIs(t, q.GetNoWait(&it), mp.ErrEmpty)
	assert.Less(t, time.Since(t0), 50*time.Millisecond)
	t0 = time.Now()
	assert.ErrorIs(t, q.GetTimeout(&it, 100*time.Millisecond), mp.ErrEmpty)
	assert.GreaterOrEqual(t, time.Since(t0), 100*time.Millisecond)

	assert.ErrorIs(t, q.Put(func() {}), mp.ErrBadMessage)
	// nil crosses as nil, and replaces what the variable held.
	require.NoError(t, q.Put(nil))
	it = item{5, "five"}
	require.NoError(t, q.Get(&it))
	assert.Equal(t, item{}, it)
}

func TestQueueBounded(t *testing.T) {
	t.Parallel()
	q := newQueue(t, 2)
	require.NoError(t, q.Put(1))
	require.NoError(t, q.PutNoWait(2))
	assert.True(t, q.Full())
	t0 := time.Now()
	assert.ErrorIs(t, q.PutNoWait(3), mp.ErrFull)
	assert.Less(t, time.Since(t0), 50*time.Millisecond)
	t0 = time.Now()
	assert.ErrorIs(t, q.PutTimeout(3, 100*time.Millisecond), mp.ErrFull)
	assert.GreaterOrEqual(t, time.Since(t0), 100*time.Millisecond)

	// A Put waiting for room goes ahead when a Get makes some.
	put := make(chan error)
	go func() { put <- q.Put(3) }()
	var v int
	require.NoError(t, q.Get(&v))
	require.NoError(t, <-put)
	for _, want := range []int{2, 3} {
		require.NoError(t, q.GetTimeout(&v, time.Minute))
		assert.Equal(t, want, v)
	}
	_, err := mp.NewQueue(mp.MaxQueueSize + 1)
	assert.Error(t, err)
}

func TestQueueClose(t *testing.T) {
	t.Parallel()
	q, err := mp.NewQueue(0)
	require.NoError(t, err)
	got := make(chan error)
	go func() {
		var v int
		got <- q.Get(&v)
	}()
	require.NoError(t, q.Close())
	assert.ErrorIs(t, <-got, mp.ErrQueueClosed)
	assert.ErrorIs(t, q.Put(1), mp.ErrQueueClosed)
	var v int
	assert.ErrorIs(t, q.Get(&v), mp.ErrQueueClosed)
	require.NoError(t, q.Close())
}

func TestJoinableQueueLocal(t *testing.T) {
	t.Parallel()
	q, err := mp.NewJoinableQueue(0)
	require.NoError(t, err)
	t.Cleanup(func() { q.Close() })
	assert.ErrorIs(t, q.TaskDone(), mp.ErrTaskDone)
	for i := range 10 {
		require.NoError(t, q.Put(i))
	}
	joined := make(chan error)
	go func() { joined <- q.Join() }()
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				var v int
				if err := q.Get(&v); err != nil {
					t.Error(err)
					return
				}
				if err := q.TaskDone(); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	require.NoError(t, <-joined)
	require.NoError(t, q.Join())
	assert.ErrorIs(t, q.TaskDone(), mp.ErrTaskDone)
}

func TestSimpleQueueLocal(t *testing.T) {
	t.Parallel()
	q, err := mp.NewSimpleQueue()
	require.NoError(t, err)
	t.Cleanup(func() { q.Close() })
	assert.True(t, q.Empty())
	require.NoError(t, q.Put("a"))
	assert.False(t, q.Empty())
	var s string
	require.NoError(t, q.Get(&s))
	assert.Equal(t, "a", s)
}

// TestNotPassable: a Conn or Queue sent other than by Start decodes only
// in a process that holds it, where it shares the files of the original;
// elsewhere decoding it fails with ErrNotPassable.
func TestNotPassable(t *testing.T) {
	t.Parallel()
	a, b := pipe(t, true)
	q := newQueue(t, 0)
	x, y := pipe(t, true)

	// Here, where both are held, they come back.
	require.NoError(t, x.Send(a))
	require.NoError(t, x.Send(struct{ Q *mp.Queue }{q}))
	var a2 *mp.Conn
	require.NoError(t, y.Recv(&a2))
	var got struct{ Q *mp.Queue }
	require.NoError(t, y.Recv(&got))
	require.NoError(t, a2.SendBytes([]byte("via the copy")))
	m, err := b.RecvBytes()
	require.NoError(t, err)
	assert.Equal(t, "via the copy", string(m))
	require.NoError(t, got.Q.Put(7))
	var n int
	require.NoError(t, q.Get(&n))
	assert.Equal(t, 7, n)

	// In a child that was not given them, they do not.
	p := start(t, mp.NewProcess(decodeElsewhere, y))
	require.NoError(t, x.Send(a))
	require.NoError(t, x.Send(q))
	var res []string
	require.NoError(t, x.Recv(&res))
	require.NoError(t, p.Join())
	assert.Equal(t, "true true", res[0], res[1])
	assert.Contains(t, res[1], "mp: cannot pass this to another process: this process does not hold that Conn")
}

// Children.

// decodeElsewhere receives a Conn and a Queue sent on c (not passed by
// Start) and sends back whether decoding them failed with ErrNotPassable,
// and how.
func decodeElsewhere(c *mp.Conn) error {
	var other *mp.Conn
	err1 := c.Recv(&other)
	var q *mp.Queue
	err2 := c.Recv(&q)
	return c.Send([]string{
		fmt.Sprint(errors.Is(err1, mp.ErrNotPassable), " ", errors.Is(err2, mp.ErrNotPassable)),
		fmt.Sprint(err1),
	})
}

// echo sends back what it receives until end of file.
func echo(c *mp.Conn) error {
	for {
		b, err := c.RecvBytes()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := c.SendBytes(b); err != nil {
			return err
		}
	}
}

// pinger is a Runner with a Conn field.
type pinger struct {
	C *mp.Conn
	N int
}

func (p *pinger) Run() error {
	for i := range p.N {
		if err := p.C.Send(item{i, "ping"}); err != nil {
			return err
		}
		var it item
		if err := p.C.Recv(&it); err != nil {
			return err
		}
		if it != (item{i, "pong"}) {
			return fmt.Errorf("got %v", it)
		}
	}
	return p.C.Close()
}

// passOn hands its Conn and Queue to a grandchild, which echoes on the
// Conn and puts on the Queue.
func passOn(c *mp.Conn, q *mp.Queue) error {
	p := mp.NewProcess(echo, c)
	if err := p.Start(); err != nil {
		return err
	}
	g := mp.NewProcess(putRange, q, 1000, 5)
	if err := g.Start(); err != nil {
		return err
	}
	c.Close() // the grandchild holds it now
	if err := g.Join(); err != nil {
		return err
	}
	return p.Join()
}

// putRange puts items {id*1e6+i} for i in [0, n).
func putRange(q *mp.Queue, id, n int) error {
	for i := range n {
		if err := q.Put(item{id*1_000_000 + i, "x"}); err != nil {
			return err
		}
	}
	return nil
}

// getAll gets n items and puts their sum on out.
func getAll(q, out *mp.Queue, n int) error {
	sum := 0
	for range n {
		var it item
		if err := q.Get(&it); err != nil {
			return err
		}
		sum += it.N
	}
	return out.Put(sum)
}

// flood puts n messages of size bytes each, then returns at once.
func flood(q *mp.Queue, n, size int) error {
	for i := range n {
		if err := q.Put(item{i, string(make([]byte, size))}); err != nil {
			return err
		}
	}
	return nil
}

// consume gets until it gets -1, and TaskDones each.
func consume(q *mp.JoinableQueue) error {
	for {
		var v int
		if err := q.Get(&v); err != nil {
			return err
		}
		if err := q.TaskDone(); err != nil {
			return err
		}
		if v < 0 {
			return nil
		}
	}
}

func TestPipeChild(t *testing.T) {
	t.Parallel()
	for _, m := range mp.AllStartMethods() {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			a, b := pipe(t, true)
			p := mp.NewProcess(echo, b)
			p.StartMethod = m
			start(t, p)
			require.NoError(t, b.Close()) // the child has its own copy
			for _, msg := range []string{"a", "b", "cd", "", string(make([]byte, 1<<20))} {
				require.NoError(t, a.SendBytes([]byte(msg)))
				got, err := a.RecvBytes()
				require.NoError(t, err)
				assert.Equal(t, msg, string(got))
			}
			require.NoError(t, a.Close())
			require.NoError(t, p.Join())
		})
	}
}

func TestPipeRunnerField(t *testing.T) {
	t.Parallel()
	for _, m := range mp.AllStartMethods() {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			a, b := pipe(t, true)
			p := mp.NewProcess(&pinger{C: b, N: 50})
			p.StartMethod = m
			start(t, p)
			require.NoError(t, b.Close())
			for i := 0; ; i++ {
				var it item
				err := a.Recv(&it)
				if err == io.EOF {
					assert.Equal(t, 50, i)
					break
				}
				require.NoError(t, err)
				require.Equal(t, item{i, "ping"}, it)
				require.NoError(t, a.Send(item{i, "pong"}))
			}
			require.NoError(t, p.Join())
		})
	}
}

// TestPassOn: a child hands a Conn and a Queue to grandchildren.
func TestPassOn(t *testing.T) {
	t.Parallel()
	for _, m := range mp.AllStartMethods() {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			a, b := pipe(t, true)
			q := newQueue(t, 0)
			p := mp.NewProcess(passOn, b, q)
			p.StartMethod = m
			start(t, p)
			require.NoError(t, b.Close())
			require.NoError(t, a.SendBytes([]byte("hello")))
			got, err := a.RecvBytes()
			require.NoError(t, err)
			assert.Equal(t, "hello", string(got))
			for i := range 5 {
				var it item
				require.NoError(t, q.Get(&it))
				assert.Equal(t, item{1000*1_000_000 + i, "x"}, it)
			}
			require.NoError(t, a.Close())
			require.NoError(t, p.Join())
		})
	}
}

// TestQueueProcesses: several producer and consumer children share two
// queues; each producer's items arrive in order.
func TestQueueProcesses(t *testing.T) {
	t.Parallel()
	for _, maxsize := range []int{0, 3} {
		t.Run(fmt.Sprint("maxsize=", maxsize), func(t *testing.T) {
			t.Parallel()
			const producers, n = 3, 300
			q := newQueue(t, maxsize)
			for id := range producers {
				p := mp.NewProcess(putRange, q, id, n)
				if id == 1 {
					p.StartMethod = mp.Fork
				}
				start(t, p)
			}
			// Get half in the parent, checking the order per producer...
			next, sum := map[int]int{}, 0
			for range producers * n / 2 {
				var it item
				require.NoError(t, q.Get(&it))
				id, i := it.N/1_000_000, it.N%1_000_000
				require.GreaterOrEqual(t, i, next[id], "producer %d out of order", id)
				next[id] = i + 1
				sum += it.N
			}
			// ... and the rest in two consumer children.
			out := newQueue(t, 0)
			rest := producers*n - producers*n/2
			c1 := start(t, mp.NewProcess(getAll, q, out, rest/2))
			c2 := start(t, mp.NewProcess(getAll, q, out, rest-rest/2))
			for range 2 {
				var s int
				require.NoError(t, out.Get(&s))
				sum += s
			}
			require.NoError(t, c1.Join())
			require.NoError(t, c2.Join())
			total := 0
			for id := range producers {
				for i := range n {
					total += id*1_000_000 + i
				}
			}
			assert.Equal(t, total, sum, "every item got once")
			assert.True(t, q.Empty())
			assert.Equal(t, 0, q.Qsize())
		})
	}
}

func TestJoinableQueueProcesses(t *testing.T) {
	t.Parallel()
	q, err := mp.NewJoinableQueue(0)
	require.NoError(t, err)
	t.Cleanup(func() { q.Close() })
	for i := range 100 {
		require.NoError(t, q.Put(i))
	}
	require.NoError(t, q.Put(-1))
	require.NoError(t, q.Put(-1))
	c1 := start(t, mp.NewProcess(consume, q))
	c2 := start(t, mp.NewProcess(consume, q))
	require.NoError(t, q.Join())
	assert.True(t, q.Empty())
	require.NoError(t, c1.Join())
	require.NoError(t, c2.Join())
}

// TestQueueJoinBeforeGet is Python's documented deadlock (bpo-29797): a
// child puts far more than a pipe holds and returns, and the parent joins
// it before getting anything. Join must not hang, and nothing is lost.
func TestQueueJoinBeforeGet(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ n, size int }{
		{2000, 1000}, // small items: 2 MB
		{300, 10000}, // larger ones: 3 MB
	} {
		t.Run(fmt.Sprint(tt.size), func(t *testing.T) {
			t.Parallel()
			q := newQueue(t, 0)
			p := start(t, mp.NewProcess(flood, q, tt.n, tt.size))
			require.NoError(t, p.JoinTimeout(time.Minute))
			for i := range tt.n {
				var it item
				require.NoError(t, q.GetTimeout(&it, time.Minute))
				require.Equal(t, i, it.N)
				require.Len(t, it.S, tt.size)
			}
			assert.True(t, q.Empty())
		})
	}
}

func TestRecvBytesInto(t *testing.T) {
	t.Parallel()
	r, w := pipe(t, false)
	require.NoError(t, w.SendBytes([]byte("hello")))
	require.NoError(t, w.SendBytes([]byte("too long for it")))
	require.NoError(t, w.SendBytes(nil))
	buf := make([]byte, 8)
	n, err := r.RecvBytesInto(buf)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(buf[:n]))
	n, err = r.RecvBytesInto(buf)
	assert.ErrorIs(t, err, mp.ErrBufferTooShort)
	assert.Equal(t, 15, n)
	n, err = r.RecvBytesInto(buf)
	require.NoError(t, err)
	assert.Zero(t, n)
}

// TestPollPartial: a message larger than the pipe, arriving from another
// process, makes Poll true as it begins; Poll takes nothing and RecvBytes
// gets it whole.
func TestPollPartial(t *testing.T) {
	t.Parallel()
	a, b := pipe(t, true)
	start(t, mp.NewProcess(echo, b))
	require.NoError(t, b.Close())
	big := make([]byte, 4<<20)
	for i := range big {
		big[i] = byte(i)
	}
	sent := make(chan error, 1)
	go func() { sent <- a.SendBytes(big) }()
	for range 3 {
		ok, err := a.Poll(time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
	}
	got, err := a.RecvBytes()
	require.NoError(t, err)
	assert.Equal(t, big, got)
	require.NoError(t, <-sent)
	require.NoError(t, a.Close())
}
