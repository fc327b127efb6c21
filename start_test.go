package mp_test

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/spawn"
)

// Tests of Start's edge cases: what it does while it sends the work, and
// when it fails.

func init() {
	targets = append(targets, takesBytes, takesDeep, printExecutable, goexit, leaveGrandchild, &boxRunner[int]{}, &boxRunner[string]{})
}

func takesBytes([]byte) {}

// bigArg is larger than what a pipe or socket buffers, so that sending it
// waits for the child to read.
var bigArg = make([]byte, 8<<20)

// startAsync runs p.Start in a goroutine and waits, up to a generous
// bound, for the child to exist. The channel gives Start's result, once.
func startAsync(t *testing.T, p *mp.Process) <-chan error {
	t.Helper()
	started, result := make(chan error, 1), make(chan error, 1)
	go func() {
		err := p.Start()
		started <- err
		result <- err
	}()
	t.Cleanup(func() {
		_ = p.Kill()
		<-started
		_ = p.Join()
	})
	require.Eventually(t, func() bool { return p.PID() != 0 }, 10*time.Second, 5*time.Millisecond,
		"the child exists while Start sends it its work")
	return result
}

// TestStartDoesNotHoldTheLock: while Start sends a large argument to a
// child that is slow to read it, IsAlive, Terminate and Kill answer at
// once; a Kill then makes Start fail, and leaves a Process that is not
// alive and whose Join and ExitCode agree.
func TestStartDoesNotHoldTheLock(t *testing.T) {
	t.Parallel()
	forEachMethod(t, testStartDoesNotHoldTheLock)
}

func testStartDoesNotHoldTheLock(t *testing.T, m mp.StartMethod) {
	p := newProcess(m, takesBytes, bigArg)
	p.Env = append(os.Environ(), slowMainEnv+"=1h")
	started := startAsync(t, p)

	quick := func(name string, f func()) {
		t.Helper()
		began := time.Now()
		f()
		assert.Less(t, time.Since(began), 5*time.Second, name) // not the hour the child sleeps
	}
	quick("IsAlive", func() { assert.True(t, p.IsAlive()) })
	quick("String", func() { assert.Contains(t, p.String(), "started") })
	quick("Kill", func() { assert.NoError(t, p.Kill()) })
	select {
	case err := <-started:
		require.Error(t, err, "the child died before it took its work")
		assert.True(t, strings.HasPrefix(err.Error(), "mp: sending "+p.Name+" its work"), err.Error())
	case <-time.After(10 * time.Second):
		t.Fatal("Start still sending to a killed child")
	}
	assert.False(t, p.IsAlive(), "a failed Start leaves no live process")
	code, exited := p.ExitCode()
	assert.True(t, exited)
	assert.Equal(t, -9, code)
	var e *mp.ExitError
	require.ErrorAs(t, p.Join(), &e)
	assert.Equal(t, -9, e.Code)
}

// TestFailedStart: a Start that fails leaves a Process that is not alive,
// whose Join and ExitCode agree: not started if no child was created (it
// can be started again), exited if the child died before taking its work.
func TestFailedStart(t *testing.T) {
	t.Parallel()
	forEachMethod(t, testFailedStart)
}

func testFailedStart(t *testing.T, m mp.StartMethod) {
	t.Run("no child", func(t *testing.T) {
		t.Parallel()
		p := newProcess(m, noop)
		p.Dir = t.TempDir() + "/missing"
		err := p.Start()
		require.Error(t, err)
		assert.True(t, strings.HasPrefix(err.Error(), "mp: starting "+p.Name), err.Error())
		assert.False(t, p.IsAlive())
		assert.Zero(t, p.PID())
		_, exited := p.ExitCode()
		assert.False(t, exited)
		assert.ErrorIs(t, p.Join(), mp.ErrNotStarted)
		assert.ErrorIs(t, p.Kill(), mp.ErrNotStarted)

		p.Dir = ""
		start(t, p)
		assert.NoError(t, p.Join(), "started again once fixed")
	})
	t.Run("child gone before its work", func(t *testing.T) {
		t.Parallel()
		p := newProcess(m, takesBytes, bigArg)
		p.Env = append(os.Environ(), helperEnv+"=floor") // exits before mp.Main
		err := p.Start()
		t.Cleanup(func() { _ = p.Join() })
		require.Error(t, err)
		assert.True(t, strings.HasPrefix(err.Error(), "mp: sending "+p.Name+" its work"), err.Error())
		assert.False(t, p.IsAlive(), "not alive as soon as Start returns")
		code, exited := p.ExitCode()
		assert.True(t, exited)
		assert.Equal(t, 0, code)
		select {
		case <-p.Done():
		default:
			t.Error("Done not closed")
		}
		assert.ErrorIs(t, p.Join(), mp.ErrMainGuard, "it exited without running its target")
		assert.ErrorIs(t, p.Start(), mp.ErrAlreadyStarted)
	})
}

// TestBootLimit: work over the bootstrap's size limit is refused before a
// child exists.
func TestBootLimit(t *testing.T) {
	defer mp.SetMaxBoot(1 << 20)()
	for _, m := range mp.AllStartMethods() {
		t.Run(string(m), func(t *testing.T) {
			p := newProcess(m, takesBytes, make([]byte, 2<<20))
			err := p.Start()
			require.ErrorIs(t, err, mp.ErrArgs)
			assert.Contains(t, err.Error(), "over the limit of 1048576")
			assert.True(t, strings.HasPrefix(err.Error(), "mp: "), err.Error())
			assert.Zero(t, p.PID(), "no child was created")
			assert.ErrorIs(t, p.Join(), mp.ErrNotStarted)

			small := start(t, newProcess(m, takesBytes, make([]byte, 1<<19)))
			assert.NoError(t, small.Join())
		})
	}
}

// goexit ends its goroutine, the child's main one, with runtime.Goexit,
// as t.FailNow does; its deferred calls run first.
func goexit() {
	defer fmt.Println("deferred call ran")
	runtime.Goexit()
}

// TestGoexit: a target that calls runtime.Goexit ends the child with exit
// code 1 and an error that says so, after its deferred calls.
func TestGoexit(t *testing.T) {
	t.Parallel()
	forEachMethod(t, testGoexit)
}

func testGoexit(t *testing.T, m mp.StartMethod) {
	var out syncBuffer
	p := newProcess(m, goexit)
	p.Stdout = &out
	start(t, p)
	err := p.JoinTimeout(10 * time.Second)
	require.NotErrorIs(t, err, mp.ErrStillRunning, "the child must not hang")
	var e *mp.ExitError
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 1, e.Code)
	assert.Contains(t, e.Error(), "exited with code 1: mp: the target called runtime.Goexit")
	assert.Equal(t, "deferred call ran\n", out.String())
}

// linger holds its standard output until its standard input ends (at most
// a minute).
func linger() {
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
	}
}

// leaveGrandchild starts a program that shares its standard input and
// output, and returns without waiting for it.
func leaveGrandchild() error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), helperEnv+"=linger")
	cmd.Stdin, cmd.Stdout = os.Stdin, os.Stdout
	if err := cmd.Start(); err != nil {
		return err
	}
	fmt.Println("grandchild started")
	return cmd.Process.Release()
}

// TestJoinLeavesGrandchild: a grandchild that holds the captured standard
// output of its parent, which has exited, delays Join by at most the
// documented delay.
func TestJoinLeavesGrandchild(t *testing.T) {
	t.Parallel()
	forEachMethod(t, testJoinLeavesGrandchild)
}

func testJoinLeavesGrandchild(t *testing.T, m mp.StartMethod) {
	stdinR, stdinW, err := os.Pipe()
	require.NoError(t, err)
	var out syncBuffer
	p := newProcess(m, leaveGrandchild)
	p.Stdin, p.Stdout = stdinR, &out
	start(t, p)
	t.Cleanup(func() { stdinW.Close() }) // lets the grandchild go, before start's cleanup joins
	stdinR.Close()
	began := time.Now()
	err = p.JoinTimeout(20 * time.Second)
	require.NotErrorIs(t, err, mp.ErrStillRunning, "Join waits for the grandchild")
	require.NoError(t, err)
	assert.Less(t, time.Since(began), 10*time.Second)
	assert.Equal(t, "grandchild started\n", out.String())
}

// boxRunner is a Runner of a generic type: unlike a generic function's,
// each instantiation has a name of its own.
type boxRunner[T any] struct{ V T }

func (b *boxRunner[T]) Run() error {
	fmt.Printf("%T %v\n", b.V, b.V)
	return nil
}

func TestGenericRunner(t *testing.T) {
	t.Parallel()
	forEachMethod(t, func(t *testing.T, m mp.StartMethod) {
		for _, r := range []any{&boxRunner[int]{V: 7}, &boxRunner[string]{V: "seven"}} {
			var out syncBuffer
			p := newProcess(m, r)
			p.Stdout = &out
			start(t, p)
			require.NoError(t, p.Join())
			assert.Equal(t, fmt.Sprintf("%T %v\n", reflect.ValueOf(r).Elem().Field(0).Interface(),
				reflect.ValueOf(r).Elem().Field(0).Interface()), out.String())
		}
	})
}

// deepConn is a list whose nodes may carry a Conn: Start looks into it for
// connections to pass.
type deepConn struct {
	Next *deepConn
	C    *mp.Conn
}

// TestTooDeep: a value nested without end is an error from Start, which
// starts nothing, never a crash.
func TestTooDeep(t *testing.T) {
	t.Parallel()
	_, w := pipe(t, false)
	list := &deepConn{C: w}
	for range 1_000_000 {
		list = &deepConn{Next: list}
	}
	forEachMethod(t, func(t *testing.T, m mp.StartMethod) {
		p := newProcess(m, takesDeep, list)
		err := p.Start()
		require.ErrorIs(t, err, mp.ErrArgs)
		require.ErrorIs(t, err, mp.ErrBadMessage, "as the codec refuses a value nested too deeply")
		assert.Contains(t, err.Error(), "nested too deeply")
		assert.Zero(t, p.PID())
	})
}

func takesDeep(*deepConn) {}

func printExecutable() error {
	exe, err := os.Executable()
	fmt.Println(exe)
	return err
}

// TestSetExecutable: Start runs the program spawn.SetExecutable names,
// under every method: the children that Forkserver started ahead of time
// run the program that was set before, so they are let go and the Start is
// cold. It changes process-wide state, so it does not run in parallel.
func TestSetExecutable(t *testing.T) {
	for _, m := range mp.AllStartMethods() {
		t.Run(string(m), func(t *testing.T) { testSetExecutable(t, m) })
	}
}

func testSetExecutable(t *testing.T, m mp.StartMethod) {
	self, err := os.Executable()
	require.NoError(t, err)
	b, err := os.ReadFile(self)
	require.NoError(t, err)
	copied := filepath.Join(t.TempDir(), "copy-"+filepath.Base(self))
	// Once the executable is restored (cleanups run last first), end the
	// children that Forkserver started from the copy: on Windows a
	// program that runs cannot be removed.
	t.Cleanup(mp.StopForkserver)
	require.NoError(t, os.WriteFile(copied, b, 0o755))
	require.NoError(t, spawn.SetExecutable(copied))
	t.Cleanup(func() { require.NoError(t, spawn.SetExecutable("")) })

	var out syncBuffer
	p := newProcess(m, printExecutable)
	p.Stdout = &out
	start(t, p)
	require.NoError(t, p.Join())
	got := strings.TrimSpace(out.String())
	want, err := filepath.EvalSymlinks(copied)
	require.NoError(t, err)
	got, err = filepath.EvalSymlinks(got)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}
