package mp_test

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/isolation"
)

// Tests of how connections and queues cross into a child.

func init() {
	targets = append(targets, holdAll, sumQueues, &nestedRunner{}, echoOn, sendOnGlobal)
	isolation.Inherit("passing_test.globalConn", &globalConn)
}

// globalConn is a Fork global: the Conn it holds crosses with it.
var globalConn *mp.Conn

func sendOnGlobal(msg string) error { return globalConn.Send(msg) }

// TestForkGlobalPassable: a Conn in a global registered with
// isolation.Inherit crosses under Fork.
func TestForkGlobalPassable(t *testing.T) {
	r, w := pipe(t, false)
	globalConn = w
	t.Cleanup(func() { globalConn = nil })
	p := mp.NewProcess(sendOnGlobal, "via a global")
	p.StartMethod = mp.Fork
	start(t, p)
	var got string
	require.NoError(t, r.Recv(&got))
	assert.Equal(t, "via a global", got)
	require.NoError(t, p.Join())
}

// slowMainEnv makes the test binary sleep for its duration before
// mp.Main: a child slow to take its bootstrap.
const slowMainEnv = "MP_TEST_SLOW_MAIN"

// holdAll is the target of a child that never gets to run it.
func holdAll(*mp.Queue, *mp.Conn, *mp.Conn, *mp.Conn) {}

// TestTimeoutsAfterStart starts a child that is slow to reach mp.Main,
// passing it a queue and pipes, and checks that the parent's timed and
// no-wait calls on them keep their timeouts meanwhile. os/exec puts every
// file it passes into blocking mode, for every process that shares it:
// had Start passed them that way, these calls would block in read(2) until
// the child reached mp.Main.
func TestTimeoutsAfterStart(t *testing.T) {
	t.Parallel()
	q := newQueue(t, 1)
	r, w := pipe(t, false)
	a, b := pipe(t, true)
	p := mp.NewProcess(holdAll, q, r, w, a)
	p.Env = append(os.Environ(), slowMainEnv+"=1h")
	start(t, p)

	const d = 100 * time.Millisecond
	checks := []struct {
		name string
		call func() error
		want error
	}{
		{"Queue.GetTimeout", func() error { var v int; return q.GetTimeout(&v, d) }, mp.ErrEmpty},
		{"Queue.GetNoWait", func() error { var v int; return q.GetNoWait(&v) }, mp.ErrEmpty},
		{"Queue.Put", func() error { return q.Put(1) }, nil},
		{"Queue.PutTimeout", func() error { return q.PutTimeout(2, d) }, mp.ErrFull},
		{"Queue.PutNoWait", func() error { return q.PutNoWait(2) }, mp.ErrFull},
		{"Conn.Poll (one-way)", func() error { return polled(r.Poll(d)) }, nil},
		{"Conn.Poll (duplex)", func() error { return polled(b.Poll(d)) }, nil},
		{"Conn.Poll (the child's end)", func() error { return polled(a.Poll(0)) }, nil},
	}
	for _, c := range checks {
		done := make(chan error, 1)
		began := time.Now()
		go func() { done <- c.call() }()
		select {
		case err := <-done:
			assert.ErrorIs(t, err, c.want, c.name)
			if c.want == nil {
				assert.NoError(t, err, c.name)
			}
			assert.Less(t, time.Since(began), 5*time.Second, c.name)
		case <-time.After(10 * time.Second):
			t.Fatalf("%s still blocked after 10 s: the files lost their non-blocking mode", c.name)
		}
	}
	assert.True(t, p.IsAlive(), "the child is still before mp.Main")
}

// polled turns Poll's result into an error: nil when nothing is waiting.
func polled(ok bool, err error) error {
	if err == nil && ok {
		err = errors.New("Poll found a message that no one sent")
	}
	return err
}

// sumQueues gets one int from each queue and sends the sum on out.
func sumQueues(qs []*mp.Queue, out *mp.Conn) error {
	sum := 0
	for _, q := range qs {
		var n int
		if err := q.Get(&n); err != nil {
			return err
		}
		sum += n
	}
	return out.Send(sum)
}

// TestManyPassed passes more files than one SCM_RIGHTS message may carry
// (Linux's SCM_MAX_FD is 253): 40 queues of 11 files each.
func TestManyPassed(t *testing.T) {
	t.Parallel()
	qs := make([]*mp.Queue, 40)
	want := 0
	for i := range qs {
		qs[i] = newQueue(t, 5) // bounded: 11 files each
		require.NoError(t, qs[i].Put(i))
		want += i
	}
	r, w := pipe(t, false)
	p := start(t, mp.NewProcess(sumQueues, qs, w))
	var sum int
	require.NoError(t, r.Recv(&sum))
	assert.Equal(t, want, sum)
	require.NoError(t, p.Join())
}

// nestedRunner finds its connections in a map, behind pointers and in a
// slice of structs: Start finds them there too.
type nestedRunner struct {
	ByName map[string]*mp.Conn
	Deep   **struct{ C *mp.Conn }
	Items  []struct{ C *mp.Conn }
	Same   *mp.Conn // also in ByName: passed once
}

func (n *nestedRunner) Run() error {
	conns := []*mp.Conn{n.ByName["a"], (**n.Deep).C, n.Items[1].C, n.Same}
	for i, c := range conns {
		if err := c.Send(i); err != nil {
			return err
		}
	}
	return nil
}

// echoOn sends back on out each value that in carries.
func echoOn(in []any, out *mp.Conn) error {
	for _, v := range in {
		if err := out.Send(fmt.Sprint(v)); err != nil {
			return err
		}
	}
	return nil
}

func TestNestedPassables(t *testing.T) {
	t.Parallel()
	for _, m := range mp.AllStartMethods() {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			ra, wa := pipe(t, false)
			rd, wd := pipe(t, false)
			ri, wi := pipe(t, false)
			deep := &struct{ C *mp.Conn }{wd}
			p := mp.NewProcess(&nestedRunner{
				ByName: map[string]*mp.Conn{"a": wa},
				Deep:   &deep,
				Items:  []struct{ C *mp.Conn }{{nil}, {wi}},
				Same:   wa,
			})
			p.StartMethod = m
			start(t, p)
			for i, r := range []*mp.Conn{ra, rd, ri, ra} {
				var n int
				require.NoError(t, r.Recv(&n))
				assert.Equal(t, i, n)
			}
			require.NoError(t, p.Join())
		})
	}
}

// TestConcurrentStarts starts children concurrently, each with pipes of its
// own, while other goroutines send Conns as values: no Start may take
// another's files (the race detector watches for shared state).
func TestConcurrentStarts(t *testing.T) {
	t.Parallel()
	const n = 8
	x, y := pipe(t, true)
	stop, sent := make(chan struct{}), make(chan struct{})
	go func() {
		for {
			var c *mp.Conn
			if y.Recv(&c) != nil {
				return
			}
		}
	}()
	go func() {
		defer close(sent)
		for {
			select {
			case <-stop:
				return
			default:
				_ = x.Send(x)
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- echoChild(i)
		}()
	}
	wg.Wait()
	close(stop)
	<-sent
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
}

// echoChild starts echoOn with a pipe of its own and checks what comes
// back.
func echoChild(i int) error {
	r, w, err := mp.Pipe(false)
	if err != nil {
		return err
	}
	defer r.Close()
	p := mp.NewProcess(echoOn, []any{i, "x"}, w)
	err = p.Start()
	w.Close()
	if err != nil {
		return err
	}
	defer func() { _ = p.Kill(); _ = p.Join() }()
	var got []string
	for range 2 {
		var s string
		if err := r.Recv(&s); err != nil {
			return err
		}
		got = append(got, s)
	}
	if fmt.Sprint(got) != fmt.Sprintf("[%d x]", i) {
		return fmt.Errorf("child %d echoed %v", i, got)
	}
	return p.Join()
}
