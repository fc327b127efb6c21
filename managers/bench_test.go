package managers_test

import (
	"bytes"
	"fmt"
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
// child, per pair; Python's manager dict proxy doing d[k] = i; d[k] from a
// child in the same run.
func BenchmarkManagerDict(b *testing.B) {
	m := newManager(b)
	d := must[*managers.Dict[string, int]](b)(managers.NewDict[string, int](m))
	in, out, err := mp.Pipe(false)
	require.NoError(b, err)
	defer in.Close()
	p := start(b, mp.NewProcess(benchPairs, d, b.N, out))
	require.NoError(b, out.Close())
	var took time.Duration
	require.NoError(b, in.Recv(&took))
	require.NoError(b, p.Join())
	ours := float64(b.N) / took.Seconds()
	b.ReportMetric(float64(took.Nanoseconds())/float64(b.N), "ns/pair")
	b.ReportMetric(ours, "pairs/s")
	if py := pythonFigures(b); py != nil {
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
	if py := pythonFigures(b); py != nil {
		b.ReportMetric(py["increments/s"], "python-increments/s")
		b.ReportMetric(py["manager-lock-increments/s"], "python-manager-lock-increments/s")
		b.ReportMetric(ours/py["increments/s"], "x-python")
	}
}

// pythonFigures runs bench/pymanager.py once per test binary, or returns
// nil without python3.
func pythonFigures(b *testing.B) map[string]float64 {
	b.Helper()
	python.once.Do(func() {
		py, err := exec.LookPath("python3")
		if err != nil {
			python.err = "no python3"
			return
		}
		script := filepath.Join("..", "bench", "pymanager.py")
		var out bytes.Buffer
		cmd := exec.Command(py, script, "20000", strconv.Itoa(incrementsPerProcess(b)))
		cmd.Stdout, cmd.Stderr = &out, os.Stderr
		if err := cmd.Run(); err != nil {
			python.err = fmt.Sprintf("python3 %s: %v", script, err)
			return
		}
		f := strings.Fields(out.String())
		python.figures = map[string]float64{}
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i+1], 64)
			if err != nil {
				python.err = fmt.Sprintf("python3 %s said %q", script, out.String())
				return
			}
			python.figures[f[i]] = v
		}
	})
	if python.err != "" {
		b.Log(python.err)
	}
	return python.figures
}

var python struct {
	once    sync.Once
	figures map[string]float64
	err     string
}
