package managers_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/managers"
)

// Benchmarks against Python's managers, run by bench/pymanager.py in the
// same run when python3 is present:
//
//	go test -run '^$' -bench Manager -benchtime 1x ./managers    # quick
//	go test -run '^$' -bench Manager -count 5 ./managers
//
// MP_MANAGER_INCREMENTS sets the increments per process of
// BenchmarkManagerIncrements (and of Python's run): 10 000 by default.

func init() { targets = append(targets, benchPairs, benchIncrements) }

// benchPairs sets and gets a key n times, and sends how long that took.
func benchPairs(d *managers.Dict[string, int], n int, out *mp.Conn) error {
	if err := d.Set("k", 0); err != nil {
		return err
	}
	began := time.Now()
	for i := range n {
		if err := d.Set("k", i); err != nil {
			return err
		}
		if _, err := d.Get("k"); err != nil {
			return err
		}
	}
	return out.Send(time.Since(began))
}

// BenchmarkManagerDict: Set+Get round trips on a manager's dict from a
// child, per pair; before it, in the same invocation, Python's manager
// dict proxy doing d[k] = i; d[k] from a child (5 000 pairs), so that each
// ratio compares runs seconds apart on a noisy machine.
func BenchmarkManagerDict(b *testing.B) {
	b.StopTimer() // the timer counts the child, not Python's run, for b.N's sake
	py := runPython(b, "dict", "5000")
	m := newManager(b)
	d := must[*managers.Dict[string, int]](b)(managers.NewDict[string, int](m))
	in, out, err := mp.Pipe(false)
	require.NoError(b, err)
	defer in.Close()
	b.StartTimer()
	p := start(b, mp.NewProcess(benchPairs, d, b.N, out))
	require.NoError(b, out.Close())
	var took time.Duration
	require.NoError(b, in.Recv(&took))
	require.NoError(b, p.Join())
	b.StopTimer()
	ours := float64(b.N) / took.Seconds()
	b.ReportMetric(float64(took.Nanoseconds())/float64(b.N), "ns/pair")
	b.ReportMetric(ours, "pairs/s")
	if py != nil {
		b.ReportMetric(py["python-dict-pairs/s"], "python-pairs/s")
		b.ReportMetric(ours/py["python-dict-pairs/s"], "x-python")
	}
}

// benchIncrements waits for go, then adds 1 to d["n"] n times.
func benchIncrements(d *managers.Dict[string, int], n int, ready *mp.Conn) error {
	if err := ready.Send(true); err != nil {
		return err
	}
	var go_ bool
	if err := ready.Recv(&go_); err != nil {
		return err
	}
	for range n {
		if _, err := d.Add("n", 1); err != nil {
			return err
		}
	}
	return nil
}

// incrementsPerProcess is MP_MANAGER_INCREMENTS, or 10 000.
func incrementsPerProcess(b *testing.B) int {
	if s := os.Getenv("MP_MANAGER_INCREMENTS"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(b, err, "MP_MANAGER_INCREMENTS")
		return n
	}
	return 10_000
}

// BenchmarkManagerIncrements: 8 processes each add 1 to one key of a
// manager's dict 10 000 times with Dict.Add, from the moment all are ready
// until all are done; Python's 8 processes doing d[k] += 1 under a
// multiprocessing.Lock (its faster lock; a manager's Lock is reported
// too) in the same run.
func BenchmarkManagerIncrements(b *testing.B) {
	const procs = 8
	n := incrementsPerProcess(b)
	m := newManager(b)
	var total time.Duration
	for range b.N {
		d := must[*managers.Dict[string, int]](b)(managers.NewDict[string, int](m))
		var ps []*mp.Process
		var conns []*mp.Conn
		for range procs {
			a, c, err := mp.Pipe(true)
			require.NoError(b, err)
			ps = append(ps, start(b, mp.NewProcess(benchIncrements, d, n, c)))
			require.NoError(b, c.Close())
			var ok bool
			require.NoError(b, a.Recv(&ok))
			conns = append(conns, a)
		}
		began := time.Now()
		for _, c := range conns {
			require.NoError(b, c.Send(true))
		}
		for _, p := range ps {
			require.NoError(b, p.Join())
		}
		total += time.Since(began)
		for _, c := range conns {
			c.Close()
		}
		require.Equal(b, procs*n, must[int](b)(d.Get("n")))
	}
	ours := float64(procs*n*b.N) / total.Seconds()
	b.ReportMetric(ours, "increments/s")
	if py := pythonIncrements(b); py != nil {
		b.ReportMetric(py["increments/s"], "python-increments/s")
		b.ReportMetric(py["manager-lock-increments/s"], "python-manager-lock-increments/s")
		b.ReportMetric(ours/py["increments/s"], "x-python")
	}
}

// pythonIncrements runs bench/pymanager.py's increments once per test
// binary (it takes a minute or more: 80 000 increments at a few thousand a
// second, twice), or returns nil without python3.
func pythonIncrements(b *testing.B) map[string]float64 {
	b.Helper()
	incrementsOnce.Do(func() {
		incrementsFigures = runPython(b, "incr", strconv.Itoa(incrementsPerProcess(b)))
	})
	return incrementsFigures
}

var (
	incrementsOnce    sync.Once
	incrementsFigures map[string]float64
)

// runPython runs bench/pymanager.py with args and returns the figures it
// prints, or nil without python3.
func runPython(b *testing.B, args ...string) map[string]float64 {
	b.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		b.Log("no python3: no Python figures")
		return nil
	}
	script := filepath.Join("..", "bench", "pymanager.py")
	var out bytes.Buffer
	cmd := exec.Command(py, append([]string{script}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		b.Logf("python3 %s: %v", script, err)
		return nil
	}
	f := strings.Fields(out.String())
	figures := map[string]float64{}
	for i := 0; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i+1], 64)
		if err != nil {
			b.Logf("python3 %s said %q", script, out.String())
			return nil
		}
		figures[f[i]] = v
	}
	return figures
}
