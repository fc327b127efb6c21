package managers_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/managers"
)

// targets are the children of the tests, registered in TestMain; test
// files add theirs in init.
var targets []any

func TestMain(m *testing.M) {
	mp.Main(targets...)
	// Race-enabled children otherwise sleep 1 s at exit to flush reports.
	if os.Getenv("GORACE") == "" {
		os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
	code := m.Run()
	// The children that wait for work under Forkserver, and the goroutines
	// that watch them, are not leaks: Shutdown ends them.
	mp.Shutdown()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: errors on successful test run: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// newManager starts a manager whose server is shut down when the test
// ends.
func newManager(t testing.TB, opts ...managers.Option) *managers.Manager {
	t.Helper()
	m, err := managers.NewManager(opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

// start starts p and kills and joins it when the test ends.
func start(t testing.TB, p *mp.Process) *mp.Process {
	t.Helper()
	require.NoError(t, p.Start())
	t.Cleanup(func() {
		_ = p.Kill()
		_ = p.Join()
		_ = p.Close()
	})
	return p
}

// run starts target with args in a child and requires it to exit cleanly.
func run(t testing.TB, method mp.StartMethod, target any, args ...any) {
	t.Helper()
	p := mp.NewProcess(target, args...)
	p.StartMethod = method
	start(t, p)
	require.NoError(t, p.Join())
}

// must returns v, failing the test on err.
func must[T any](t testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		require.NoError(t, err)
		return v
	}
}
