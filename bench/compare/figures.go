package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/go-mp/mp"
)

// A figure is one row of the table: the same work measured with mp and
// with Python, one sample at a time.
type figure struct {
	name   string
	unit   unit
	rounds int                            // rounds; 0: the -rounds flag
	mp     func() (float64, error)        // one sample with mp
	py     map[string]any                 // the request for one sample in Python (compare.py); nil: none
	pyRead func(*python) (float64, error) // instead of py, for a figure that needs more than one request
	note   string                         // shown under the table
}

// unit says what a sample is and how it reads: a sample is in seconds,
// per second or bytes, shown multiplied by scale, and lower tells whether
// less is better.
type unit struct {
	name  string
	scale float64
	lower bool
}

var (
	millis  = unit{"ms", 1e3, true}
	kPerSec = unit{"k/s", 1e-3, false}
	gbPerS  = unit{"GB/s", 1e-9, false}
	mib     = unit{"MiB", 1.0 / (1 << 20), true}
)

// sizes are the batches the figures work on: smaller with -quick.
type sizes struct{ quick bool }

func (s sizes) of(full, quick int) int {
	if s.quick {
		return quick
	}
	return full
}

// allFigures lists the figures, in the order of the table. A feature that
// lands in mp later adds one line here and one function below.
func allFigures(s sizes) []figure {
	return []figure{
		startJoin(mp.Spawn, s),
		startJoin(mp.Fork, s),
		startJoin(mp.Forkserver, s),
		together(mp.Fork, s),
		together(mp.Forkserver, s),
		pipeRoundTrip(s),
		pipeBulk(s),
		queueItems(s),
		poolMap(s),
		poolLifecycle(mp.Fork, s),
		poolLifecycle(mp.Forkserver, s),
		lockHandoffs(s),
		valueIncrements(s),
		idleUSS(mp.Spawn),
		idleUSS(mp.Fork),
	}
}

// result is a figure's medians.
type result struct {
	figure
	mp, py   float64 // medians; NaN-free only where ok
	mpErr    error
	pyErr    error
	hasPy    bool
	rounds   int
	mpSample []float64
	pySample []float64
}

// measure takes n rounds of f, alternating which side goes first.
func measure(f figure, n int, py *python) result {
	r := result{figure: f, rounds: n, hasPy: py != nil && (f.py != nil || f.pyRead != nil)}
	// A round that is not counted pays what comes once: Python's
	// forkserver, a pool's first workers, pages touched for the first time.
	for i := -1; i < n; i++ {
		if i == 0 {
			r.mpSample, r.pySample = nil, nil
		}
		sides := []func(){
			func() {
				if r.mpErr != nil {
					return
				}
				v, err := f.mp()
				if err != nil {
					r.mpErr = err
					return
				}
				r.mpSample = append(r.mpSample, v)
			},
			func() {
				if !r.hasPy || r.pyErr != nil {
					return
				}
				var v float64
				var err error
				if f.pyRead != nil {
					v, err = f.pyRead(py)
				} else {
					v, err = py.call(f.py)
				}
				if err != nil {
					r.pyErr = err
					return
				}
				r.pySample = append(r.pySample, v)
			},
		}
		if i%2 != 0 {
			slices.Reverse(sides)
		}
		for _, side := range sides {
			side()
		}
	}
	if r.mpErr == nil {
		r.mp = median(r.mpSample)
	}
	if r.hasPy && r.pyErr == nil {
		r.py = median(r.pySample)
	}
	return r
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// advantage is how many times better mp's median is than Python's: above
// 1, mp is faster, has the higher rate, or uses less memory.
func (r result) advantage() (float64, bool) {
	if !r.hasPy || r.mpErr != nil || r.pyErr != nil || r.mp <= 0 || r.py <= 0 {
		return 0, false
	}
	if r.unit.lower {
		return r.py / r.mp, true
	}
	return r.mp / r.py, true
}

// quiet waits until the children that Forkserver starts ahead of time all
// wait, so that none starts in the background of a sample, whichever
// method it measures: their start-up is paid ahead of time, outside every
// figure.
func quiet(n int) error {
	return mp.SetForkserverPreload(max(n, mp.DefaultForkserverPreload))
}

// Targets of the children mp starts.
var targets = []any{noop, echo, sink, consume, idle, mp.Task(sqr), handoffWorker, incrementWorker}

func noop() {}

// startJoin is the time to start a child that runs a no-op and wait for
// it, with Python's method of the same name.
func startJoin(m mp.StartMethod, s sizes) figure {
	return figure{
		name:   fmt.Sprintf("start+join of a no-op, %s", m),
		unit:   millis,
		rounds: s.of(31, 1),
		mp: func() (float64, error) {
			if err := quiet(0); err != nil {
				return 0, err
			}
			p := mp.NewProcess(noop)
			p.StartMethod = m
			t0 := time.Now()
			if err := p.Start(); err != nil {
				return 0, err
			}
			if err := p.Join(); err != nil {
				return 0, err
			}
			d := time.Since(t0)
			return d.Seconds(), p.Close()
		},
		py: map[string]any{"fig": "startjoin", "method": string(m)},
	}
}

// together is the time to start 100 children that run a no-op, then wait
// for them all. Under Forkserver, 100 wait ahead of time (the preload set
// to the burst), as Python's server waits.
func together(m mp.StartMethod, s sizes) figure {
	n := s.of(100, 10)
	return figure{
		name:   fmt.Sprintf("%d children together, %s", n, m),
		unit:   millis,
		rounds: s.of(5, 1),
		mp: func() (float64, error) {
			pre := 0
			if m == mp.Forkserver {
				pre = n
			}
			if err := quiet(pre); err != nil {
				return 0, err
			}
			ps := make([]*mp.Process, n)
			for i := range ps {
				ps[i] = mp.NewProcess(noop)
				ps[i].StartMethod = m
			}
			t0 := time.Now()
			for _, p := range ps {
				if err := p.Start(); err != nil {
					return 0, err
				}
			}
			var err error
			for _, p := range ps {
				err = errors.Join(err, p.Join())
			}
			d := time.Since(t0)
			for _, p := range ps {
				_ = p.Close()
			}
			return d.Seconds(), errors.Join(err, quiet(0))
		},
		py: map[string]any{"fig": "together", "method": string(m), "n": n},
		note: "Python's spawn is left out of the 100-children rows: each of its children imports the " +
			"interpreter afresh (a quarter of a second each here), so a round would take half a minute.",
	}
}

// echo sends back each message it receives, until an empty one.
func echo(c *mp.Conn) error {
	buf := make([]byte, 64<<10)
	for {
		n, err := c.RecvBytesInto(buf)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if err := c.SendBytes(buf[:n]); err != nil {
			return err
		}
	}
}

// pipeRoundTrip is the rate of 64-byte round trips over a Pipe, parent to
// child and back.
func pipeRoundTrip(s sizes) figure {
	const size = 64
	n := s.of(20000, 500)
	return figure{
		name: "Pipe round trips, 64 bytes",
		unit: kPerSec,
		mp: func() (float64, error) {
			a, b, err := mp.Pipe(true)
			if err != nil {
				return 0, err
			}
			defer a.Close()
			p := mp.NewProcess(echo, b)
			if err := p.Start(); err != nil {
				return 0, err
			}
			b.Close()
			msg, buf := bytes.Repeat([]byte{'x'}, size), make([]byte, size)
			trip := func() error {
				if err := a.SendBytes(msg); err != nil {
					return err
				}
				_, err := a.RecvBytesInto(buf)
				return err
			}
			for range 100 { // warm up
				if err := trip(); err != nil {
					return 0, err
				}
			}
			t0 := time.Now()
			for range n {
				if err := trip(); err != nil {
					return 0, err
				}
			}
			d := time.Since(t0)
			if err := a.SendBytes(nil); err != nil {
				return 0, err
			}
			return float64(n) / d.Seconds(), p.Join()
		},
		py: map[string]any{"fig": "pipe_roundtrip", "size": size, "n": n},
	}
}

// sink takes count messages of size bytes, acknowledging each batch, for
// as long as it is asked "again".
func sink(c *mp.Conn, size, count int) error {
	buf := make([]byte, size)
	if err := c.SendBytes([]byte("r")); err != nil {
		return err
	}
	for {
		for range count {
			if _, err := c.RecvBytesInto(buf); err != nil {
				return err
			}
		}
		if err := c.SendBytes([]byte("k")); err != nil {
			return err
		}
		n, err := c.RecvBytesInto(buf)
		if err != nil {
			return err
		}
		if string(buf[:n]) != "again" {
			return nil
		}
	}
}

// pipeBulk is the rate of 1 MiB messages over a Pipe, parent to child.
func pipeBulk(s sizes) figure {
	const size = 1 << 20
	count := s.of(256, 16)
	return figure{
		name: "Pipe bulk, 1 MiB messages",
		unit: gbPerS,
		mp: func() (float64, error) {
			a, b, err := mp.Pipe(true)
			if err != nil {
				return 0, err
			}
			defer a.Close()
			p := mp.NewProcess(sink, b, size, count)
			if err := p.Start(); err != nil {
				return 0, err
			}
			b.Close()
			msg, ack := bytes.Repeat([]byte{'x'}, size), make([]byte, 8)
			batch := func() error {
				for range count {
					if err := a.SendBytes(msg); err != nil {
						return err
					}
				}
				_, err := a.RecvBytesInto(ack)
				return err
			}
			if _, err := a.RecvBytesInto(ack); err != nil {
				return 0, err
			}
			if err := batch(); err != nil { // warm up
				return 0, err
			}
			if err := a.SendBytes([]byte("again")); err != nil {
				return 0, err
			}
			t0 := time.Now()
			if err := batch(); err != nil {
				return 0, err
			}
			d := time.Since(t0)
			if err := a.SendBytes([]byte("stop")); err != nil {
				return 0, err
			}
			return float64(size*count) / d.Seconds(), p.Join()
		},
		py: map[string]any{"fig": "pipe_bulk", "size": size, "count": count},
	}
}

// item is what queueItems puts: Python puts (i, "hello").
type item struct {
	I int
	S string
}

// consume gets n items from q, saying on done when it starts and ends.
func consume(q *mp.Queue, done *mp.Conn, n int) error {
	if err := done.SendBytes([]byte("ready")); err != nil {
		return err
	}
	var it item
	for range n {
		if err := q.Get(&it); err != nil {
			return err
		}
	}
	return done.SendBytes([]byte("done"))
}

// queueItems is the rate of small items through a Queue, parent to child,
// until the child has got them all.
func queueItems(s sizes) figure {
	n := s.of(50000, 1000)
	return figure{
		name: "Queue items, one way",
		unit: kPerSec,
		mp: func() (float64, error) {
			q, err := mp.NewQueue(0)
			if err != nil {
				return 0, err
			}
			defer q.Close()
			a, b, err := mp.Pipe(false)
			if err != nil {
				return 0, err
			}
			defer a.Close()
			p := mp.NewProcess(consume, q, b, n)
			if err := p.Start(); err != nil {
				return 0, err
			}
			b.Close()
			if _, err := a.RecvBytes(); err != nil {
				return 0, err
			}
			t0 := time.Now()
			for i := range n {
				if err := q.Put(item{i, "hello"}); err != nil {
					return 0, err
				}
			}
			if _, err := a.RecvBytes(); err != nil {
				return 0, err
			}
			d := time.Since(t0)
			return float64(n) / d.Seconds(), p.Join()
		},
		py: map[string]any{"fig": "queue_items", "n": n},
	}
}

// sqr is the pools' tiny task.
func sqr(x int) (int, error) { return x * x, nil }

// ints returns 0, 1, ..., n-1.
func ints(n int) []int {
	xs := make([]int, n)
	for i := range xs {
		xs[i] = i
	}
	return xs
}

// poolMap is the rate of 100,000 tiny tasks through Map on a pool of
// CPUCount() workers made beforehand; Python's pool is made with fork, as
// bench/pypool.py's is, with its automatic chunk size.
func poolMap(s sizes) figure {
	n := s.of(100_000, 1000)
	return figure{
		name: fmt.Sprintf("Pool map of %d tiny tasks", n),
		unit: kPerSec,
		mp: func() (float64, error) {
			p, err := mp.NewPool(0)
			if err != nil {
				return 0, err
			}
			defer p.Join()
			defer p.Close()
			items := ints(n)
			if _, err := mp.Map(p, sqr, items[:100]); err != nil { // warm up
				return 0, err
			}
			t0 := time.Now()
			got, err := mp.Map(p, sqr, items)
			d := time.Since(t0)
			if err == nil && got[n-1] != (n-1)*(n-1) {
				err = fmt.Errorf("map: got %d for %d", got[n-1], n-1)
			}
			return float64(n) / d.Seconds(), err
		},
		py: map[string]any{"fig": "pool_map", "n": n},
	}
}

// poolLifecycle is the time to make a pool of four workers, map ten tiny
// tasks, close it and join it, with Python's method of the same name.
// Under Forkserver four children wait beforehand.
func poolLifecycle(m mp.StartMethod, s sizes) figure {
	const procs, n = 4, 10
	return figure{
		name:   fmt.Sprintf("Pool(%d) create+map(%d)+close, %s", procs, n, m),
		unit:   millis,
		rounds: s.of(15, 1),
		mp: func() (float64, error) {
			pre := 0
			if m == mp.Forkserver {
				pre = procs
			}
			if err := quiet(pre); err != nil {
				return 0, err
			}
			t0 := time.Now()
			p, err := mp.NewPool(procs, mp.WithStartMethod(m))
			if err != nil {
				return 0, err
			}
			_, err = mp.Map(p, sqr, ints(n))
			err = errors.Join(err, p.Close(), p.Join())
			d := time.Since(t0)
			return d.Seconds(), errors.Join(err, quiet(0))
		},
		py: map[string]any{"fig": "pool_lifecycle", "method": string(m), "procs": procs, "n": n},
	}
}

// idle says it is up, then waits for its parent to let it go.
func idle(c *mp.Conn) error {
	if err := c.SendBytes([]byte("up")); err != nil {
		return err
	}
	_, err := c.RecvBytes()
	return err
}

// idleUSS is the private memory (USS) of a child that waits on a pipe,
// measured the same way for both (see uss.go), with Python's method of
// the same name.
func idleUSS(m mp.StartMethod) figure {
	f := figure{
		name:   fmt.Sprintf("private memory (USS) of an idle child, %s", m),
		unit:   mib,
		rounds: 5,
		mp: func() (float64, error) {
			a, b, err := mp.Pipe(true)
			if err != nil {
				return 0, err
			}
			defer a.Close()
			p := mp.NewProcess(idle, b)
			p.StartMethod = m
			if err := p.Start(); err != nil {
				return 0, err
			}
			b.Close()
			if _, err := a.RecvBytes(); err != nil {
				return 0, err
			}
			v, err := uss(p.PID())
			if err := a.SendBytes([]byte("bye")); err != nil {
				return 0, err
			}
			return v, errors.Join(err, p.Join())
		},
		pyRead: func(py *python) (float64, error) {
			pid, err := py.call(map[string]any{"fig": "idle_start", "method": string(m)})
			if err != nil {
				return 0, err
			}
			v, err := uss(int(pid))
			_, serr := py.call(map[string]any{"fig": "idle_stop"})
			return v, errors.Join(err, serr)
		},
	}
	if _, err := uss(os.Getpid()); err != nil {
		f.note = "USS is not measured on this system: " + err.Error()
		f.mp = func() (float64, error) { return 0, err }
		f.pyRead = nil
	}
	return f
}
