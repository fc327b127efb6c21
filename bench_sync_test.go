package mp_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/internal/robust"
	"github.com/go-mp/mp/internal/shm"
)

func init() { ipcTargets = append(ipcTargets, handoffWorker, counterWorker) }

// The benchmarks' shared words, in the Lock's spare memory (mp.LockScratch).
const (
	scratchTurn    = 0 // handoff: whose turn it is
	scratchCounter = 1 // counter: the counter
)

// handoffWorker takes turns with another process through l, as
// bench/pysync.py's handoff_worker does: until it has taken n turns, take
// the lock, take the turn if it is its own (passing it on), release.
func handoffWorker(me, n int, l *mp.Lock, ready, done *mp.Semaphore, start *mp.Event) error {
	words := mp.LockScratch(l)
	if err := ready.Release(); err != nil {
		return err
	}
	if err := start.Wait(); err != nil {
		return err
	}
	for taken := 0; taken < n; {
		if err := l.Acquire(); err != nil {
			return err
		}
		if words[scratchTurn] == uint64(me) {
			words[scratchTurn] = uint64(1 - me)
			taken++
		}
		if err := l.Release(); err != nil {
			return err
		}
	}
	return done.Release()
}

// counterWorker adds 1 to the shared counter n times under l.
func counterWorker(n int, l *mp.Lock, ready, done *mp.Semaphore, start *mp.Event) error {
	words := mp.LockScratch(l)
	if err := ready.Release(); err != nil {
		return err
	}
	if err := start.Wait(); err != nil {
		return err
	}
	for range n {
		if err := l.Acquire(); err != nil {
			return err
		}
		words[scratchCounter]++
		if err := l.Release(); err != nil {
			return err
		}
	}
	return done.Release()
}

// timedChildren starts a child per argument list, lets them go at once, and
// returns the time until all have said they are done.
func timedChildren(b *testing.B, target any, argsets [][]any) time.Duration {
	ready, err := mp.NewSemaphore(0)
	if err != nil {
		b.Fatal(err)
	}
	done, err := mp.NewSemaphore(0)
	if err != nil {
		b.Fatal(err)
	}
	start, err := mp.NewEvent()
	if err != nil {
		b.Fatal(err)
	}
	defer ready.Close()
	defer done.Close()
	defer start.Close()
	var ps []*mp.Process
	for _, args := range argsets {
		p := mp.NewProcess(target, append(args, ready, done, start)...)
		if err := p.Start(); err != nil {
			b.Fatal(err)
		}
		ps = append(ps, p)
	}
	defer func() {
		for _, p := range ps {
			_ = p.Kill()
			_ = p.Join()
		}
	}()
	for range ps {
		if ok, err := ready.AcquireTimeout(time.Minute); err != nil || !ok {
			b.Fatal("children not ready", err)
		}
	}
	t0 := time.Now()
	if err := start.Set(); err != nil {
		b.Fatal(err)
	}
	for range ps {
		if ok, err := done.AcquireTimeout(time.Minute); err != nil || !ok {
			b.Fatal("children not done", err)
		}
	}
	d := time.Since(t0)
	for _, p := range ps {
		if err := p.Join(); err != nil {
			b.Fatal(err)
		}
	}
	return d
}

// BenchmarkLock measures a Lock against its floor and against Python's
// multiprocessing.Lock, run by bench/pysync.py in the same run when
// python3 is present:
//
//   - uncontended: Acquire+Release by one goroutine, against a sync.Mutex
//     plus one atomic store in shared memory ("x-floor"; the goal is at
//     most 2), and against Python's acquire+release;
//   - handoff: two processes take turns through the lock (a hand-off is a
//     turn taken), hand-offs per second ("x-python"; the goal is at least
//     2);
//   - counter: four processes add 1 to a shared counter 100,000 times each
//     under the lock ("x-python": Python's time over ours; the goal is at
//     least 2).
//
// Figures are medians over the iterations (and over three runs for
// Python).
func BenchmarkLock(b *testing.B) {
	b.Run("uncontended", func(b *testing.B) {
		l, err := mp.NewLock()
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		seg, err := shm.New(4096)
		if err != nil {
			b.Fatal(err)
		}
		defer seg.Close()
		word := robust.Uint64At(seg.Bytes(), 0)
		var mu sync.Mutex
		const n = 10000
		var floor, ours []time.Duration
		for b.Loop() {
			t0 := time.Now()
			for range n {
				mu.Lock()
				word.Store(1)
				mu.Unlock()
			}
			t1 := time.Now()
			for range n {
				_ = l.Acquire()
				_ = l.Release()
			}
			floor, ours = append(floor, t1.Sub(t0)/n), append(ours, time.Since(t1)/n)
		}
		o, f := median(ours), median(floor)
		b.ReportMetric(float64(o.Nanoseconds()), "ns/acquire+release")
		b.ReportMetric(float64(f.Nanoseconds()), "ns/floor")
		b.ReportMetric(float64(o)/float64(f), "x-floor")
		if py := pythonSync(b, "uncontended"); py > 0 {
			b.ReportMetric(py, "python-ns/acquire+release")
		}
	})
	b.Run("handoff", func(b *testing.B) {
		const n = 5000
		var rates []float64
		for b.Loop() {
			l, err := mp.NewLock()
			if err != nil {
				b.Fatal(err)
			}
			d := timedChildren(b, handoffWorker, [][]any{{0, n, l}, {1, n, l}})
			rates = append(rates, 2*n/d.Seconds())
			l.Close()
		}
		ours := medianFloat(rates)
		b.ReportMetric(ours, "handoffs/s")
		if py := pythonSync(b, "handoff"); py > 0 {
			b.ReportMetric(py, "python-handoffs/s")
			b.ReportMetric(ours/py, "x-python")
		}
	})
	b.Run("counter", func(b *testing.B) {
		const n, procs = 100_000, 4
		var times []time.Duration
		for b.Loop() {
			l, err := mp.NewLock()
			if err != nil {
				b.Fatal(err)
			}
			args := make([][]any, procs)
			for i := range args {
				args[i] = []any{n, l}
			}
			times = append(times, timedChildren(b, counterWorker, args))
			if got := mp.LockScratch(l)[scratchCounter]; got != n*procs {
				b.Fatalf("counter %d, want %d", got, n*procs)
			}
			l.Close()
		}
		ours := median(times)
		b.ReportMetric(float64(ours.Milliseconds()), "ms")
		if py := pythonSync(b, "counter"); py > 0 {
			b.ReportMetric(py*1000, "python-ms")
			b.ReportMetric(py/ours.Seconds(), "x-python")
		}
	})
}

// BenchmarkLockContended measures four goroutines of one process taking
// one Lock in turn, per Acquire+Release.
func BenchmarkLockContended(b *testing.B) {
	l, err := mp.NewLock()
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	var total atomic.Int64
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = l.Acquire()
			total.Add(1)
			_ = l.Release()
		}
	})
}

func medianFloat(xs []float64) float64 {
	ds := make([]time.Duration, len(xs))
	for i, x := range xs {
		ds[i] = time.Duration(x * 1000)
	}
	return float64(median(ds)) / 1000
}

// pythonSync runs bench/pysync.py in the given mode, or returns 0 without
// python3.
func pythonSync(b *testing.B, mode string) float64 { return pythonFigure(b, "pysync.py", mode) }
