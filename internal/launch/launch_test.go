package launch_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp/internal/launch"
)

const markerEnv = "LAUNCH_TEST_CHILD"

// TestMain plays the child when the marker is set: it opens the channels
// the marker names, echoes what the boot channel carries to the report
// pipe, and exits with the code the marker asks for.
func TestMain(m *testing.M) {
	if v, ok := os.LookupEnv(markerEnv); ok {
		os.Exit(child(v))
	}
	if h, ok := helpers[os.Getenv(helperEnv)]; ok {
		h()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// helpers are programs the tests run the test binary as, by helperEnv.
var helpers = map[string]func(){}

const helperEnv = "LAUNCH_TEST_HELPER"

func child(v string) int {
	var boot, report uintptr
	var code int
	if _, err := fmt.Sscan(strings.ReplaceAll(v, ":", " "), &boot, &report, &code); err != nil {
		return 100
	}
	b, r, err := launch.Inherited(boot, report)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 101
	}
	if code < 0 {
		time.Sleep(time.Hour) // to be killed
	}
	line := make([]byte, 5)
	if _, err := io.ReadFull(b, line); err != nil {
		return 102
	}
	if _, err := r.Write(line); err != nil {
		return 103
	}
	return code
}

func start(t *testing.T, code int) *launch.Child {
	t.Helper()
	c, err := startSpec(code, false)
	require.NoError(t, err)
	return c
}

// startSpec starts a child that exits with code (or sleeps, if negative).
func startSpec(code int, graceful bool) (*launch.Child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return launch.Start(&launch.Spec{
		Path:   exe,
		Args:   []string{exe},
		Env:    os.Environ(),
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Marker: func(boot, report uintptr) string {
			return fmt.Sprintf("%s=%d:%d:%d", markerEnv, boot, report, code)
		},
		Graceful: graceful,
	})
}

func TestStartWait(t *testing.T) {
	t.Parallel()
	c := start(t, 7)
	assert.NotZero(t, c.Pid())
	_, err := c.Boot.Write([]byte("hello"))
	require.NoError(t, err)
	got, err := io.ReadAll(c.Report)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(got), "the report pipe carries what the child wrote, then ends")
	ps, err := c.Wait()
	assert.Error(t, err) // exit status 7
	assert.Equal(t, 7, launch.ExitCode(ps))
	assert.True(t, errors.Is(kill(c), os.ErrProcessDone), "no signal after the child is reaped")
	c.Boot.Close()
	c.Report.Close()
	_ = c.Release()
}

func TestKill(t *testing.T) {
	t.Parallel()
	c := start(t, -1)
	require.NoError(t, kill(c))
	ps, _ := c.Wait()
	assert.Equal(t, -9, launch.ExitCode(ps))
	_, err := io.ReadAll(c.Report)
	require.NoError(t, err, "the report pipe ends with the child")
	c.Boot.Close()
	c.Report.Close()
}

// TestInheritedRefuses: a marker naming descriptors that are not what a
// parent passes (or none at all) does not make a child.
func TestInheritedRefuses(t *testing.T) {
	t.Parallel()
	f, err := os.CreateTemp(t.TempDir(), "x")
	require.NoError(t, err)
	defer f.Close()
	for _, fd := range []uintptr{0, 1 << 20, f.Fd()} {
		_, _, err := launch.Inherited(fd, fd)
		assert.Error(t, err, strconv.Itoa(int(fd)))
	}
	assert.Equal(t, 1, launch.ExitCode(nil), "a failed wait counts as 1")
}
