package connection_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-mp/mp"
)

// targets are the children of the tests, registered in TestMain.
var targets = []any{dial, waitThenSend}

func TestMain(m *testing.M) {
	mp.Main(targets...)
	// Race-enabled children otherwise sleep 1 s at exit to flush reports.
	if os.Getenv("GORACE") == "" {
		os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
	goleak.VerifyTestMain(m)
}

// start starts p and kills and joins it when the test ends.
func start(t *testing.T, p *mp.Process) *mp.Process {
	t.Helper()
	require.NoError(t, p.Start())
	t.Cleanup(func() {
		_ = p.Kill()
		_ = p.Join()
		_ = p.Close()
	})
	return p
}

type item struct {
	N int
	S string
}
