package mp_test

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-mp/mp"
)

func init() { ipcTargets = append(ipcTargets, mp.Task(burn), sqrReflect) }

// sqrReflect is sqr registered without mp.Task: workers call it through
// reflect.Value.Call.
func sqrReflect(x int) (int, error) { return x * x, nil }

// burn spins n turns of a loop with a data dependency: CPU work, the same
// loop as bench/pypool.py's burn. It is never inlined, so that the
// calibration, the goroutines' floor and the pool's workers (which call it
// through a function value) all run the same machine code: inlined copies
// of so tight a loop ran up to 2.7 times faster than the function itself
// here (where a loop's branches fall against 32-byte boundaries matters to
// these CPUs), which made the pool look 2.7 times slower than the ideal.
//
//go:noinline
func burn(n int) (int, error) {
	x := uint32(0)
	for i := range n {
		x = x*31 + uint32(i)
	}
	return int(x), nil
}

// pyPool is bench/pypool.py serving one benchmark: each Step runs one
// iteration of Python's and returns its figure. The benchmarks alternate
// one iteration of Python's with one of ours, so that a noisy machine
// slows both alike.
type pyPool struct {
	in  io.WriteCloser
	out *bufio.Scanner
}

// startPython starts bench/pypool.py with args, or returns nil without
// python3 (or on Windows, where the benchmarks compare nothing).
func startPython(b *testing.B, args ...string) *pyPool {
	py, err := exec.LookPath("python3")
	if err != nil || runtime.GOOS == "windows" {
		return nil
	}
	script, _ := filepath.Abs(filepath.Join("bench", "pypool.py"))
	if _, err := os.Stat(script); err != nil {
		return nil
	}
	cmd := exec.Command(py, append([]string{script}, args...)...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Logf("python3 %s: %v", script, err)
		return nil
	}
	b.Cleanup(func() {
		in.Close()
		_ = cmd.Wait()
	})
	return &pyPool{in: in, out: bufio.NewScanner(out)}
}

// Step runs one iteration of Python's and returns its figure.
func (p *pyPool) Step(b *testing.B) float64 {
	if _, err := io.WriteString(p.in, "\n"); err != nil {
		b.Fatal(err)
	}
	if !p.out.Scan() {
		b.Fatalf("bench/pypool.py ended: %v", p.out.Err())
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(p.out.Text()), 64)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

func medianF(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkPoolMap measures Map of 100,000 tiny tasks (square an int) on a
// pool of CPUCount() workers with Python's chunk rule, in tasks per second
// (median), alternating with bench/pypool.py's Pool.map of the same (fork,
// auto chunksize); "x-python" is the ratio of the rates (the goal is at
// least 1.5). "task" registers the function with mp.Task, "reflect"
// without.
func BenchmarkPoolMap(b *testing.B) {
	for _, tc := range []struct {
		name string
		fn   func(int) (int, error)
	}{{"task", sqr}, {"reflect", sqrReflect}} {
		b.Run(tc.name, func(b *testing.B) { benchmarkMap(b, tc.fn) })
	}
}

func benchmarkMap(b *testing.B, fn func(int) (int, error)) {
	py := startPython(b, "map")
	p, err := mp.NewPool(0)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Join()
	defer p.Close()
	items := ints(100_000)
	if _, err := mp.Map(p, fn, items[:100]); err != nil {
		b.Fatal(err)
	}
	var ours, theirs []float64
	for b.Loop() {
		if py != nil {
			theirs = append(theirs, float64(len(items))/py.Step(b))
		}
		t0 := time.Now()
		got, err := mp.Map(p, fn, items)
		if err != nil || got[99_999] != 99_999*99_999 {
			b.Fatal(err)
		}
		ours = append(ours, float64(len(items))/time.Since(t0).Seconds())
	}
	b.ReportMetric(medianF(ours), "mp-tasks/s")
	if py != nil {
		b.ReportMetric(medianF(theirs), "python-tasks/s")
		b.ReportMetric(medianF(ours)/medianF(theirs), "x-python")
	}
}

// BenchmarkPoolLifecycle measures NewPool(4), Map of 10 items, Close and
// Join (median), alternating with Python's fork-method Pool(4) doing the
// same; "x-python" is our time over Python's (the goal is at most 0.5).
// The floor, measured in the same loop, is four bare Processes started
// together and joined ("x-floor": what the pool adds to that). Under
// Forkserver four children wait before each timed part (outside the
// timer): a program that makes pools sets SetForkserverPreload to their
// size, and pays the workers' start-up ahead of time.
func BenchmarkPoolLifecycle(b *testing.B) {
	b.Cleanup(func() { _ = mp.SetForkserverPreload(mp.DefaultForkserverPreload) })
	for _, m := range mp.AllStartMethods() {
		b.Run(string(m), func(b *testing.B) {
			py := startPython(b, "lifecycle")
			ready := func() {
				if m != mp.Forkserver {
					return
				}
				b.StopTimer()
				defer b.StartTimer()
				if err := mp.SetForkserverPreload(4); err != nil {
					b.Fatal(err)
				}
			}
			var ours, theirs, floor []float64
			for b.Loop() {
				if py != nil {
					theirs = append(theirs, py.Step(b)*1e3)
				}
				ready()
				t0 := time.Now()
				var ps [4]*mp.Process
				for i := range ps {
					ps[i] = mp.NewProcess(noop)
					ps[i].StartMethod = m
					if err := ps[i].Start(); err != nil {
						b.Fatal(err)
					}
				}
				for _, p := range ps {
					if err := p.Join(); err != nil {
						b.Fatal(err)
					}
					_ = p.Close()
				}
				floor = append(floor, time.Since(t0).Seconds()*1e3)
				ready()
				t0 = time.Now()
				p, err := mp.NewPool(4, mp.WithStartMethod(m))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := mp.Map(p, sqr, ints(10)); err != nil {
					b.Fatal(err)
				}
				_ = p.Close()
				_ = p.Join()
				ours = append(ours, time.Since(t0).Seconds()*1e3)
			}
			b.ReportMetric(medianF(ours), "mp-ms")
			b.ReportMetric(medianF(floor), "floor-ms")
			b.ReportMetric(medianF(ours)/medianF(floor), "x-floor")
			if py != nil {
				b.ReportMetric(medianF(theirs), "python-fork-ms")
				b.ReportMetric(medianF(ours)/medianF(theirs), "x-python")
			}
		})
	}
}

// BenchmarkPoolImapUnordered runs ImapUnordered of 10,000 tasks of 1 ms of
// CPU each (chunks of one, the default) on CPUCount() workers, and reports
// its time over the ideal, tasks × 1 ms / CPUs ("x-ideal"; the goal is at
// most 1.1). The task's loop is calibrated to 1 ms in this process first.
// On a machine others load, the ideal is out of reach for anyone: the same
// work on CPUCount() goroutines of this process, in the same loop, is the
// floor ("x-goroutines": the pool's cost over it), and Python's
// imap_unordered of the same runs alternately ("python-x-ideal"). An
// iteration takes about 3 × 10 s / CPUs: use -benchtime 2x.
func BenchmarkPoolImapUnordered(b *testing.B) {
	const tasks = 10_000
	iters := calibrate(time.Millisecond)
	n := mp.CPUCount()
	py := startPython(b, "imap", strconv.Itoa(tasks))
	p, err := mp.NewPool(n)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Join()
	defer p.Close()
	items := make([]int, tasks)
	for i := range items {
		items[i] = iters
	}
	ideal := time.Duration(tasks) * time.Millisecond / time.Duration(n)
	var ours, theirs, inproc []float64
	for b.Loop() {
		if py != nil {
			theirs = append(theirs, py.Step(b))
		}
		// The floor: the same work on n goroutines of this process.
		t0 := time.Now()
		next := make(chan int, len(items))
		for _, it := range items {
			next <- it
		}
		close(next)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				for it := range next {
					_, _ = burn(it)
				}
			})
		}
		wg.Wait()
		inproc = append(inproc, time.Since(t0).Seconds()/ideal.Seconds())

		t0 = time.Now()
		got := 0
		for _, err := range mp.ImapUnordered(p, burn, items) {
			if err != nil {
				b.Fatal(err)
			}
			got++
		}
		if got != tasks {
			b.Fatalf("%d results of %d", got, tasks)
		}
		ours = append(ours, time.Since(t0).Seconds()/ideal.Seconds())
	}
	b.ReportMetric(ideal.Seconds(), "ideal-s")
	b.ReportMetric(medianF(ours), "x-ideal")
	b.ReportMetric(medianF(inproc), "goroutines-x-ideal")
	b.ReportMetric(medianF(ours)/medianF(inproc), "x-goroutines")
	if py != nil {
		b.ReportMetric(medianF(theirs), "python-x-ideal")
	}
}

// calibrate returns the turns of burn's loop that take d here (median of
// 21 timings).
func calibrate(d time.Duration) int {
	n := 100_000
	for {
		var ts []time.Duration
		for range 21 {
			t0 := time.Now()
			_, _ = burn(n)
			ts = append(ts, time.Since(t0))
		}
		m := median(ts)
		if m >= 200*time.Microsecond {
			return int(float64(n) * float64(d) / float64(m))
		}
		n *= 4
	}
}
