package mp_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
)

// Tests of Process.GracePeriod: targets that take a context, a graceful
// Terminate, and children that see their parent die.

func init() {
	targets = append(targets, createGrandchild, reportParentStatus, stopOnCancel, ignoreCancel,
		startReporter, reportCause, startIgnorer, &graceRunner{})
}

// createGrandchild is CPython's _test_create_grandchild_process: it starts
// a grandchild, with a grace period, that reports on its parent, and
// sleeps.
func createGrandchild(w *mp.Conn, grace time.Duration) error {
	p := mp.NewProcess(reportParentStatus, w)
	p.GracePeriod = grace
	if err := p.Start(); err != nil {
		return err
	}
	time.Sleep(time.Hour)
	return nil
}

// reportParentStatus is CPython's _test_report_parent_status.
func reportParentStatus(w *mp.Conn) error {
	status := func() string {
		if mp.ParentProcess().IsAlive() {
			return "alive"
		}
		return "not alive"
	}
	if err := w.Send(status()); err != nil {
		return err
	}
	select { // parent_process().join(timeout=support.SHORT_TIMEOUT)
	case <-mp.ParentProcess().Done():
	case <-time.After(30 * time.Second):
	}
	return w.Send(status())
}

// recvWithin receives a string from r, failing t if none comes within
// 30 seconds or the pipe ends.
func recvWithin(t *testing.T, r *mp.Conn) string {
	t.Helper()
	ok, err := r.Poll(30 * time.Second)
	require.NoError(t, err)
	require.True(t, ok, "nothing came in 30 s")
	var s string
	require.NoError(t, r.Recv(&s))
	return s
}

// TestCPythonParentProcess is CPython's test_parent_process: a grandchild
// reports its parent alive, then, once the parent has been terminated,
// not alive. Here the grandchild sees it within its grace period.
func TestCPythonParentProcess(t *testing.T) {
	t.Parallel()
	forEachMethod(t, func(t *testing.T, m mp.StartMethod) {
		r, w := pipe(t, false)
		p := start(t, newProcess(m, createGrandchild, w, 30*time.Second))
		require.NoError(t, w.Close())
		assert.Equal(t, "alive", recvWithin(t, r))
		require.NoError(t, p.Terminate())
		_ = p.Join()
		assert.Equal(t, "not alive", recvWithin(t, r))
	})
}

// stopOnCancel reports when it is ready and when its context ends, and
// why, and returns the context's error; an AtExit function reports too.
func stopOnCancel(ctx context.Context, w *mp.Conn) error {
	mp.AtExit(func() { _ = w.Send("at exit") })
	if err := w.Send("ready"); err != nil {
		return err
	}
	<-ctx.Done()
	if err := w.Send(context.Cause(ctx).Error()); err != nil {
		return err
	}
	return ctx.Err()
}

// ignoreCancel says it is ready, with its PID, and sleeps, whatever
// happens.
func ignoreCancel(_ context.Context, w *mp.Conn) error {
	if err := w.Send(fmt.Sprint("ready ", os.Getpid())); err != nil {
		return err
	}
	time.Sleep(time.Hour)
	return nil
}

// graceRunner is a RunnerContext: it stops when its context ends.
type graceRunner struct{ W *mp.Conn }

func (g *graceRunner) Run(ctx context.Context) error { return stopOnCancel(ctx, g.W) }

// TestGracefulTerminate: Terminate cancels the context of a target that
// takes one; the target returns within its grace period, its AtExit
// functions run, and the child exits with -15, as a terminated child does,
// printing nothing. Under every start method.
func TestGracefulTerminate(t *testing.T) {
	t.Parallel()
	forEachMethod(t, testGracefulTerminate)
}

func testGracefulTerminate(t *testing.T, m mp.StartMethod) {
	for _, runner := range []bool{false, true} {
		t.Run(fmt.Sprint("runner=", runner), func(t *testing.T) {
			t.Parallel()
			r, w := pipe(t, false)
			p := newProcess(m, stopOnCancel, w)
			if runner {
				p = newProcess(m, &graceRunner{W: w})
				assert.Regexp(t, `^graceRunner-\d+$`, p.Name)
			}
			var stderr syncBuffer
			p.GracePeriod, p.Stderr = time.Minute, &stderr
			start(t, p)
			require.NoError(t, w.Close())
			require.Equal(t, "ready", recvWithin(t, r))
			t0 := time.Now()
			require.NoError(t, p.Terminate())
			assert.Equal(t, mp.ErrTerminated.Error(), recvWithin(t, r))
			assert.Equal(t, "at exit", recvWithin(t, r))
			err := p.Join()
			assert.Less(t, time.Since(t0), 30*time.Second, "it returned, and did not wait for the grace period to end")
			code, _ := p.ExitCode()
			assert.Equal(t, -15, code)
			var e *mp.ExitError
			require.ErrorAs(t, err, &e)
			assert.Equal(t, "context canceled", e.Err)
			assert.Regexp(t, `was ended by signal 15 \(exit code -15\) once its target had returned: context canceled$`, err.Error())
			assert.Empty(t, stderr.String(), "a terminated child prints nothing")
		})
	}
}

// TestGraceExpires: a target that ignores its context is ended when its
// grace period runs out, with -15, and not before.
func TestGraceExpires(t *testing.T) {
	t.Parallel()
	forEachMethod(t, testGraceExpires)
}

func testGraceExpires(t *testing.T, m mp.StartMethod) {
	r, w := pipe(t, false)
	p := newProcess(m, ignoreCancel, w)
	p.GracePeriod = 300 * time.Millisecond
	start(t, p)
	require.NoError(t, w.Close())
	require.Equal(t, fmt.Sprint("ready ", p.PID()), recvWithin(t, r))
	t0 := time.Now()
	require.NoError(t, p.Terminate())
	require.NoError(t, p.Terminate(), "asking twice does no harm")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_ = p.JoinContext(ctx)
	elapsed := time.Since(t0)
	code, exited := p.ExitCode()
	require.True(t, exited)
	assert.Equal(t, -15, code)
	assert.GreaterOrEqual(t, elapsed, 300*time.Millisecond, "the target had its grace period")
}

// startReporter starts reportCause with a grace period, and sleeps.
func startReporter(w *mp.Conn, grace time.Duration) error {
	p := mp.NewProcess(reportCause, w)
	p.GracePeriod = grace
	if err := p.Start(); err != nil {
		return err
	}
	time.Sleep(time.Hour)
	return nil
}

// reportCause says it is running, with its PID, then reports why its
// context ended, and what it then knows of its parent.
func reportCause(ctx context.Context, w *mp.Conn) error {
	if err := w.Send(fmt.Sprint(os.Getpid())); err != nil {
		return err
	}
	<-ctx.Done()
	return w.Send(fmt.Sprintf("%v alive=%v", context.Cause(ctx), mp.ParentProcess().IsAlive()))
}

// TestParentDeathCancels: when a child's parent dies (here, of SIGKILL), a
// target that takes a context sees it cancelled, with ErrParentDied, and
// its parent not alive, and has its grace period to finish.
func TestParentDeathCancels(t *testing.T) {
	t.Parallel()
	forEachMethod(t, testParentDeathCancels)
}

func testParentDeathCancels(t *testing.T, m mp.StartMethod) {
	r, w := pipe(t, false)
	parent := start(t, newProcess(m, startReporter, w, 30*time.Second))
	require.NoError(t, w.Close())
	var pid int
	_, err := fmt.Sscan(recvWithin(t, r), &pid)
	require.NoError(t, err)
	gone := watchExit(t, pid)
	require.NoError(t, parent.Kill())
	assert.Equal(t, mp.ErrParentDied.Error()+" alive=false", recvWithin(t, r))
	assert.True(t, gone(20*time.Second), "the grandchild exits once its target has returned")
}

// startIgnorer starts, with a grace period, a child that ignores its
// context, and sleeps.
func startIgnorer(w *mp.Conn, grace time.Duration) error {
	p := mp.NewProcess(ignoreCancel, w)
	p.GracePeriod = grace
	if err := p.Start(); err != nil {
		return err
	}
	time.Sleep(time.Hour)
	return nil
}

// TestGraceNoOrphans: a child with a grace period that ignores its
// parent's death is gone no later than its grace period after it: no
// orphan outlives its parent by more, however the parent dies, whatever
// the start method (the grandchild is started with its parent's).
func TestGraceNoOrphans(t *testing.T) {
	t.Parallel()
	forEachMethod(t, testGraceNoOrphans)
}

func testGraceNoOrphans(t *testing.T, m mp.StartMethod) {
	variants := map[string][]string{"default": nil}
	if runtime.GOOS == "linux" {
		variants["lifeline only"] = append(os.Environ(), lifelineOnlyEnv+"=1")
	}
	const grace = 500 * time.Millisecond
	for name, env := range variants {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, w := pipe(t, false)
			parent := newProcess(m, startIgnorer, w, grace)
			parent.Env = env
			start(t, parent)
			require.NoError(t, w.Close())
			var pid int
			_, err := fmt.Sscanf(recvWithin(t, r), "ready %d", &pid)
			require.NoError(t, err)
			gone := watchExit(t, pid)
			require.NoError(t, parent.Kill())
			killed := time.Now()
			assert.False(t, gone(100*time.Millisecond), "the child has its grace period")
			assert.True(t, gone(grace+5*time.Second), "the child outlived its parent by over its grace period and 5 s")
			assert.Less(t, time.Since(killed), grace+5*time.Second)
			_ = parent.Join()
		})
	}
}

// TestNoGraceKeepsTodaysBehaviour: without a grace period, a target that
// takes a context still dies of Terminate at once, and gets a context that
// is never cancelled before. Under Forkserver, such a child is one that
// waited for its work.
func TestNoGraceKeepsTodaysBehaviour(t *testing.T) {
	t.Parallel()
	forEachMethod(t, testNoGraceKeepsTodaysBehaviour)
}

func testNoGraceKeepsTodaysBehaviour(t *testing.T, m mp.StartMethod) {
	r, w := pipe(t, false)
	p := start(t, newProcess(m, stopOnCancel, w))
	require.NoError(t, w.Close())
	require.Equal(t, "ready", recvWithin(t, r))
	require.NoError(t, p.Terminate())
	_ = p.Join()
	code, _ := p.ExitCode()
	assert.Equal(t, -15, code)
	ok, err := r.Poll(0)
	require.NoError(t, err)
	if ok {
		_, err = r.RecvBytes()
		assert.ErrorIs(t, err, io.EOF, "nothing sent: it died at once")
	}
}
