package mp_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-mp/mp"
)

func init() {
	ipcTargets = append(ipcTargets, addWorker, lockedAddWorker, touchArray, touchShared)
}

// addWorker adds 1 to v n times, with Add.
func addWorker(v *mp.RawValue[int64], n int, ready, done *mp.Semaphore, start *mp.Event) error {
	if err := together(ready, start); err != nil {
		return err
	}
	for range n {
		v.Add(1)
	}
	return done.Release()
}

// lockedAddWorker adds 1 to v n times as Python does, under v's lock.
func lockedAddWorker(v *mp.Value[int64], n int, ready, done *mp.Semaphore, start *mp.Event) error {
	if err := together(ready, start); err != nil {
		return err
	}
	l := v.GetLock()
	for range n {
		if err := l.Acquire(); err != nil {
			return err
		}
		v.Store(v.Load() + 1)
		if err := l.Release(); err != nil {
			return err
		}
	}
	return done.Release()
}

// BenchmarkValueAdd measures four processes adding 1 to one shared
// Value[int64] 100,000 times each, against Python doing the same the way
// its documentation says to, `with v.get_lock(): v.value += 1`, run by
// bench/pyshared.py in the same run when python3 is present: "add" with
// Add (no lock; "x-python" is Python's time over ours, the goal at least
// 10), "locked" as Python does, under the Value's RLock. Times are
// medians over the iterations (and over three runs for Python), from the
// moment the four are told to go until all have said they are done.
func BenchmarkValueAdd(b *testing.B) {
	const n, procs = 100_000, 4
	py := pythonFigure(b, "pyshared.py", "counter")
	for _, mode := range []string{"add", "locked"} {
		b.Run(mode, func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				v, err := mp.NewValue(int64(0))
				if err != nil {
					b.Fatal(err)
				}
				args := make([][]any, procs)
				for i := range args {
					args[i] = []any{v.RawValue, n}
					if mode == "locked" {
						args[i][0] = v
					}
				}
				target := any(addWorker)
				if mode == "locked" {
					target = lockedAddWorker
				}
				times = append(times, timedChildren(b, target, args))
				if got := v.Load(); got != n*procs {
					b.Fatalf("counter %d, want %d", got, n*procs)
				}
				v.Close()
				v.GetLock().Close()
			}
			ours := median(times)
			b.ReportMetric(float64(ours.Microseconds())/1000, "ms")
			b.ReportMetric(float64(ours.Nanoseconds())/(n*procs), "ns/add")
			if py > 0 {
				b.ReportMetric(py*1000, "python-ms")
				b.ReportMetric(py/ours.Seconds(), "x-python")
			}
		})
	}
}

// BenchmarkArrayRead measures a bulk read of a 64 MiB shared array
// through Slice, against the same read of a 64 MiB Go slice in the same
// loop (iterations alternate, so that a noisy neighbour slows both alike):
// "copy" copies it out into a Go slice (the floor is a memcpy between Go
// slices; the goal is "x-memcpy" at least 0.8), "sum" adds its float64s.
// Both arrays are written once before, so that no page faults are timed.
func BenchmarkArrayRead(b *testing.B) {
	const size = 64 << 20
	b.Run("copy", func(b *testing.B) {
		arr, err := mp.NewRawArray[byte](size)
		if err != nil {
			b.Fatal(err)
		}
		defer arr.Close()
		src, dst := make([]byte, size), make([]byte, size)
		for i := range src {
			src[i] = byte(i)
		}
		copy(arr.Slice(), src)
		copy(dst, src)
		var floor, ours []time.Duration
		for b.Loop() {
			t0 := time.Now()
			copy(dst, src)
			t1 := time.Now()
			copy(dst, arr.Slice())
			floor, ours = append(floor, t1.Sub(t0)), append(ours, time.Since(t1))
		}
		reportRead(b, size, median(ours), median(floor), "x-memcpy")
	})
	b.Run("sum", func(b *testing.B) {
		arr, err := mp.NewRawArray[float64](size / 8)
		if err != nil {
			b.Fatal(err)
		}
		defer arr.Close()
		heap := make([]float64, size/8)
		for i := range heap {
			heap[i] = float64(i)
		}
		copy(arr.Slice(), heap)
		var floor, ours []time.Duration
		var s1, s2 float64
		for b.Loop() {
			t0 := time.Now()
			s1 = sum(heap)
			t1 := time.Now()
			s2 = sum(arr.Slice())
			floor, ours = append(floor, t1.Sub(t0)), append(ours, time.Since(t1))
		}
		if s1 != s2 {
			b.Fatalf("sums %v and %v", s1, s2)
		}
		reportRead(b, size, median(ours), median(floor), "x-heap")
	})
}

func sum(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s
}

func reportRead(b *testing.B, size int, ours, floor time.Duration, ratio string) {
	b.ReportMetric(float64(size)/ours.Seconds()/1e9, "GB/s")
	b.ReportMetric(float64(size)/floor.Seconds()/1e9, "floor-GB/s")
	b.ReportMetric(floor.Seconds()/ours.Seconds(), ratio)
}

// touchArray reads the first and last bytes of a and writes them back.
func touchArray(a *mp.RawArray[byte]) {
	s := a.Slice()
	s[0]++
	s[len(s)-1]++
}

// touchShared does the same to a block.
func touchShared(m *mp.SharedMemory) error {
	s := m.Buf()
	s[0]++
	s[len(s)-1]++
	return m.Close()
}

// BenchmarkSegmentPass measures creating a segment and passing it to a
// child that touches its first and last bytes, until the child has been
// joined, for a RawArray (anonymous memory) and a SharedMemory (named),
// of 4 KiB, 64 MiB and 1 GiB. Nothing is copied: the time is that of
// starting a child, whatever the size ("x-4KiB", the time over the 4 KiB
// time of the same kind, is about 1).
func BenchmarkSegmentPass(b *testing.B) {
	if runtime.GOOS == "windows" {
		b.Skip("Windows: a 1 GiB paging-file section needs the commit charge for all of it up front")
	}
	sizes := []int{4 << 10, 64 << 20, 1 << 30}
	for _, kind := range []string{"Array", "SharedMemory"} {
		var base time.Duration
		for _, size := range sizes {
			b.Run(fmt.Sprintf("%s/%s", kind, byteSize(size)), func(b *testing.B) {
				var times []time.Duration
				for b.Loop() {
					t0 := time.Now()
					var p *mp.Process
					var closeIt func()
					if kind == "Array" {
						a, err := mp.NewRawArray[byte](size)
						if err != nil {
							b.Fatal(err)
						}
						p, closeIt = mp.NewProcess(touchArray, a), func() { a.Close() }
					} else {
						m, err := mp.NewSharedMemory("", size)
						if err != nil {
							b.Fatal(err)
						}
						p, closeIt = mp.NewProcess(touchShared, m), func() { m.Unlink(); m.Close() }
					}
					if err := p.Start(); err != nil {
						b.Fatal(err)
					}
					if err := p.Join(); err != nil {
						b.Fatal(err)
					}
					times = append(times, time.Since(t0))
					closeIt()
				}
				t := median(times)
				if size == sizes[0] {
					base = t
				}
				b.ReportMetric(float64(t.Microseconds())/1000, "ms")
				b.ReportMetric(t.Seconds()/base.Seconds(), "x-4KiB")
			})
		}
	}
}

func byteSize(n int) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return fmt.Sprintf("%dKiB", n>>10)
}

// pythonFigure runs bench/SCRIPT in the given mode and returns the
// figure it prints ("MODE FIGURE"), or 0 without python3.
func pythonFigure(b *testing.B, script, mode string) float64 {
	py, err := exec.LookPath("python3")
	if err != nil || runtime.GOOS == "windows" {
		return 0
	}
	script, _ = filepath.Abs(filepath.Join("bench", script))
	if _, err := os.Stat(script); err != nil {
		return 0
	}
	out, err := exec.Command(py, script, mode).Output()
	if err != nil {
		b.Logf("python3 %s %s: %v", script, mode, err)
		return 0
	}
	f := strings.Fields(string(out))
	if len(f) < 2 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[1], 64)
	b.Logf("%s", strings.TrimSpace(string(out)))
	return v
}
