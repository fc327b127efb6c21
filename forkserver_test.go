package mp_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-mp/mp"
)

// Tests of what is Forkserver's own: the children that wait for work. They
// look at process-wide state (how many wait, which), so they do not run in
// parallel; each leaves the default number of children wanted.

func init() { targets = append(targets, catStdin, expectEnv) }

// expectEnv fails unless the environment variable key is want and the
// working directory is dir. It writes nothing, so that its Process sets no
// standard output: on Windows a Process that does is a cold start.
func expectEnv(key, want, dir string) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	if got := os.Getenv(key); got != want || wd != dir {
		return fmt.Errorf("%s=%q in %s, want %q in %s", key, got, wd, want, dir)
	}
	return nil
}

// catStdin copies its standard input to its standard output.
func catStdin() error {
	_, err := bufio.NewReader(os.Stdin).WriteTo(os.Stdout)
	return err
}

// preload sets how many children wait, failing the test if they cannot,
// and restores the default when the test ends.
func preload(t *testing.T, n int) []int {
	t.Helper()
	require.NoError(t, mp.SetForkserverPreload(n))
	t.Cleanup(func() { require.NoError(t, mp.SetForkserverPreload(mp.DefaultForkserverPreload)) })
	pids, ready := mp.ForkserverIdle()
	require.Len(t, pids, n)
	require.Equal(t, n, ready, "SetForkserverPreload returns once they wait")
	return pids
}

// waitIdle waits, up to a generous bound, until n children wait, ready,
// and none of them is among old; it returns their PIDs.
func waitIdle(t *testing.T, n int, old []int) []int {
	t.Helper()
	var got []int
	ok := mp.WaitForkserver(20*time.Second, func(pids []int, ready int) bool {
		got = pids
		return len(pids) == n && ready == n && !slices.ContainsFunc(pids, func(pid int) bool { return slices.Contains(old, pid) })
	})
	require.True(t, ok, "waiting: %v, want %d others than %v", got, n, old)
	return got
}

// TestForkserverTakesAWaitingChild: a Start under Forkserver runs the
// target in a child that waits, and another is started in its place. A
// Process with its own standard output takes one too, on Unix, where the
// child makes the pipe its descriptor 1; on Windows, which has no dup2, it
// is a cold start.
func TestForkserverTakesAWaitingChild(t *testing.T) {
	pids := preload(t, 2)
	var out syncBuffer
	p := newProcess(mp.Forkserver, whoAmI, "warm", 1, 1.5, map[string]int(nil))
	p.Stdout = &out
	start(t, p)
	require.NoError(t, p.Join())
	if runtime.GOOS == "windows" {
		assert.NotContains(t, pids, p.PID(), "a cold start")
	} else {
		assert.Contains(t, pids, p.PID(), "a waiting child ran it")
	}
	assert.Contains(t, out.String(), `"Name":"`+p.Name+`"`)
	assert.Contains(t, out.String(), fmt.Sprintf(`"Getpid":%d`, p.PID()))

	pids = waitIdle(t, 2, []int{p.PID()})
	q := start(t, newProcess(mp.Forkserver, noop)) // nothing set: warm everywhere
	assert.Contains(t, pids, q.PID(), "a waiting child ran it")
	require.NoError(t, q.Join())
	waitIdle(t, 2, []int{q.PID()})
}

// TestStdin: a Reader that is not a file feeds the child's standard input,
// under every method.
func TestStdin(t *testing.T) {
	t.Parallel()
	forEachMethod(t, func(t *testing.T, m mp.StartMethod) {
		var out syncBuffer
		p := newProcess(m, catStdin)
		p.Stdin = strings.NewReader("to stdin\n")
		p.Stdout = &out
		start(t, p)
		require.NoError(t, p.Join())
		assert.Equal(t, "to stdin\n", out.String())
	})
}

// TestForkserverWaitsPastMain: a child that waits for work has gone no
// further than mp.Main, and one that gets work never returns from it. Any
// process of this test binary that returns from mp.Main notes its PID in a
// file: the check that the note works is a parent run by hand.
func TestForkserverWaitsPastMain(t *testing.T) {
	notes := filepath.Join(t.TempDir(), "past-main")
	t.Setenv(pastMainEnv, notes)
	pids := preload(t, 3) // started with the variable set
	read := func() string {
		b, err := os.ReadFile(notes)
		if os.IsNotExist(err) {
			return ""
		}
		require.NoError(t, err)
		return string(b)
	}
	assert.Empty(t, read(), "no waiting child went past mp.Main")

	here, err := os.Getwd()
	require.NoError(t, err)
	ok := newProcess(mp.Forkserver, expectEnv, pastMainEnv, notes, here)
	failing := newProcess(mp.Forkserver, fail, "with work")
	for _, p := range []*mp.Process{ok, failing} {
		start(t, p)
		assert.Contains(t, pids, p.PID(), "a waiting child ran it")
	}
	require.NoError(t, ok.Join(), "the child had the variable")
	require.Error(t, failing.Join())
	mp.StopForkserver() // the rest are let go
	assert.Empty(t, read(), "no child went past mp.Main, with work or without")

	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, "-test.run=^$")
	require.NoError(t, cmd.Run())
	assert.Equal(t, fmt.Sprintln(cmd.Process.Pid), read(), "a parent returns from mp.Main, and notes it")
}

// TestForkserverCrashReplaced: a child killed while it waits is reaped and
// replaced, and the next Start runs on a live one.
func TestForkserverCrashReplaced(t *testing.T) {
	pids := preload(t, 2)
	require.True(t, mp.ForkserverKill(pids[0]))
	now := waitIdle(t, 2, pids[:1])
	assert.Contains(t, now, pids[1], "the other still waits")
	assert.Empty(t, zombies(t), "the killed child was reaped")

	p := start(t, newProcess(mp.Forkserver, noop))
	assert.Contains(t, now, p.PID())
	require.NoError(t, p.Join())
}

// TestForkserverBrokenProgram: children that end before they reach mp.Main
// make SetForkserverPreload fail with the child's error, and are not
// started again and again (not for a second, here for the whole test); a
// Start is then cold, and once the program is mended children wait again.
func TestForkserverBrokenProgram(t *testing.T) {
	mp.StopForkserver()
	t.Cleanup(mp.SetForkserverRetry(time.Hour)) // longer than the test
	// After the variable is restored (cleanups run last first):
	t.Cleanup(func() { require.NoError(t, mp.SetForkserverPreload(mp.DefaultForkserverPreload)) })
	t.Setenv(helperEnv, "floor") // exits before mp.Main
	before := mp.ForkserverStarted()
	err := mp.SetForkserverPreload(2)
	require.Error(t, err)
	assert.ErrorIs(t, err, mp.ErrMainGuard)
	var e *mp.ExitError
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 0, e.Code)
	assert.Contains(t, err.Error(), "mp: a child started for Forkserver ended before it could wait for work")

	for range 5 {
		// A cold start, of the same broken program. Start may fail, if the
		// child is gone before its work could be written.
		p := newProcess(mp.Forkserver, noop)
		if err := p.Start(); err == nil { // else nothing started: Join would say so
			assert.ErrorIs(t, p.Join(), mp.ErrMainGuard)
		}
	}
	assert.Equal(t, before+1, mp.ForkserverStarted(), "no child was started ahead of time again")
	pids, _ := mp.ForkserverIdle()
	assert.Empty(t, pids)

	require.NoError(t, os.Unsetenv(helperEnv))
	preload(t, 2)
}

// TestForkserverWaitingNotActive: children that wait are not children of
// the program yet: ActiveChildren does not list them, and Shutdown ends
// them.
func TestForkserverWaitingNotActive(t *testing.T) {
	preload(t, 2)
	assert.Empty(t, mp.ActiveChildren())
	p := start(t, newProcess(mp.Forkserver, sleep, time.Hour))
	assert.Equal(t, []*mp.Process{p}, mp.ActiveChildren())
	require.NoError(t, p.Terminate())
	mp.Shutdown()
	pids, _ := mp.ForkserverIdle()
	assert.Empty(t, pids, "Shutdown ends the children that wait")
	assert.Empty(t, mp.ActiveChildren())
	assert.Empty(t, zombies(t))
}

// TestForkserverPreload: the count of children that wait is what was set;
// zero means none, and none waits until Forkserver is used.
func TestForkserverPreload(t *testing.T) {
	assert.ErrorIs(t, mp.SetForkserverPreload(-1), mp.ErrArgs)
	three := preload(t, 3)
	one := preload(t, 1)
	assert.Equal(t, three[:1], one, "the oldest stays")
	require.NoError(t, mp.SetForkserverPreload(0))
	pids, _ := mp.ForkserverIdle()
	assert.Empty(t, pids)
	p := start(t, newProcess(mp.Forkserver, noop))
	require.NoError(t, p.Join())
	pids, _ = mp.ForkserverIdle()
	assert.Empty(t, pids, "a preload of zero: every Start is cold, none waits")

	require.NoError(t, mp.SetForkserverPreload(mp.DefaultForkserverPreload))
	mp.StopForkserver()
	before := mp.ForkserverStarted()
	start(t, newProcess(mp.Spawn, noop)).Join()
	assert.Equal(t, before, mp.ForkserverStarted(), "unused, Forkserver starts nothing")
	q := start(t, newProcess(mp.Forkserver, noop))
	require.NoError(t, q.Join())
	waitIdle(t, mp.DefaultForkserverPreload, []int{q.PID()})
}

// TestForkserverStale: children that wait were started in the parent's
// environment and working directory of the time; once those change, a
// Start does not use them but starts cold, and they are replaced.
func TestForkserverStale(t *testing.T) {
	old := preload(t, 2)
	dir := t.TempDir()
	// Before the directory is removed, and after the working directory is
	// restored: on Windows no process may be in it.
	t.Cleanup(mp.StopForkserver)
	t.Setenv("MP_TEST_VALUE", "changed")
	t.Chdir(dir)
	here, err := os.Getwd()
	require.NoError(t, err)

	p := start(t, newProcess(mp.Forkserver, expectEnv, "MP_TEST_VALUE", "changed", here))
	require.NoError(t, p.Join())
	assert.NotContains(t, old, p.PID(), "a cold start")
	fresh := waitIdle(t, 2, old)

	q := start(t, newProcess(mp.Forkserver, expectEnv, "MP_TEST_VALUE", "changed", here))
	require.NoError(t, q.Join())
	assert.Contains(t, fresh, q.PID(), "the replacements fit")
}

// TestForkserverNoLeaks: 1,000 starts under Forkserver, some with
// captured output, some killed at once, leave no descriptor, goroutine or
// zombie behind once the children that wait are ended, and never more
// children waiting than asked for.
func TestForkserverNoLeaks(t *testing.T) {
	mp.StopForkserver()
	before := countFDs(t)
	ignore := goleak.IgnoreCurrent()
	const n = 1000
	most := 0
	for i := range n {
		var out syncBuffer
		p := newProcess(mp.Forkserver, noop)
		if i%3 == 0 {
			p = newProcess(mp.Forkserver, whoAmI, "leak", i, 0.0, map[string]int(nil))
			p.Stdout = &out
		}
		require.NoError(t, p.Start())
		if i%10 == 9 {
			require.NoError(t, p.Kill())
		}
		err := p.JoinTimeout(20 * time.Second)
		require.NotErrorIs(t, err, mp.ErrStillRunning)
		if code, _ := p.ExitCode(); code != -9 {
			require.NoError(t, err)
			if i%3 == 0 {
				assert.Contains(t, out.String(), fmt.Sprintf(`"Args":["leak",%d,`, i))
			}
		}
		require.NoError(t, p.Close())
		pids, _ := mp.ForkserverIdle()
		most = max(most, len(pids))
	}
	assert.LessOrEqual(t, most, mp.DefaultForkserverPreload, "children waiting at most")
	t.Logf("%d starts; children started ahead of time: %d", n, mp.ForkserverStarted())
	mp.StopForkserver()
	goleak.VerifyNone(t, ignore)
	assert.Equal(t, before, countFDs(t), "open descriptors")
	assert.Empty(t, zombies(t), "zombie children")
	assert.Empty(t, mp.ActiveChildren())
}

// TestForkserverAbuse starts processes under Forkserver from several
// goroutines while another kills children that wait, at random: every
// Start either runs its child (which exits 0, or -9 if it was killed as it
// was handed over, before its watcher saw it die) or fails having reaped
// it; nothing hangs, and afterwards children wait again.
func TestForkserverAbuse(t *testing.T) {
	preload(t, 3)
	stop := make(chan struct{})
	var killer sync.WaitGroup
	killer.Add(1)
	go func() {
		defer killer.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if pids, _ := mp.ForkserverIdle(); len(pids) > 0 {
				// It may have been taken meanwhile: then the kill fails.
				mp.ForkserverKill(pids[i%len(pids)])
			}
		}
	}()
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[string]int{}
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 40 {
				p := newProcess(mp.Forkserver, noop)
				err := p.Start()
				jerr := p.JoinTimeout(20 * time.Second)
				code, exited := p.ExitCode()
				outcome := ""
				switch {
				case err != nil && strings.HasPrefix(err.Error(), "mp: starting "+p.Name):
					// A cold start that could not create a process (Wine
					// refuses one now and then under this load): nothing
					// was started.
					outcome = "not created"
					assert.False(t, exited)
					assert.Zero(t, p.PID())
				case err != nil:
					outcome = "start failed"
					assert.True(t, strings.HasPrefix(err.Error(), "mp: sending "+p.Name+" its work"), err.Error())
					assert.True(t, exited, "a failed Start has reaped its child")
				case code == 0:
					outcome = "ran"
					assert.NoError(t, jerr)
				default:
					outcome = "killed"
					assert.Equal(t, -9, code, "goroutine %d: %v", g, jerr)
				}
				assert.NotErrorIs(t, jerr, mp.ErrStillRunning)
				mu.Lock()
				outcomes[outcome]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(stop)
	killer.Wait()
	t.Logf("outcomes: %v; children started ahead of time: %d", outcomes, mp.ForkserverStarted())
	assert.Positive(t, outcomes["ran"])
	require.NoError(t, mp.SetForkserverPreload(3), "children wait again")
	assert.Empty(t, zombies(t))
}

// TestForkserverGrace: a Process without a grace period takes a child that
// waits, and its target, which takes a context, gets one that Terminate
// does not cancel: the child dies at once. One with a grace period is a
// cold start (its child is started otherwise: see Process.GracePeriod),
// and Terminate cancels its context.
func TestForkserverGrace(t *testing.T) {
	pids := preload(t, 2)
	r, w := pipe(t, false)
	p := start(t, newProcess(mp.Forkserver, stopOnCancel, w))
	assert.Contains(t, pids, p.PID(), "a waiting child ran it")
	require.Equal(t, "ready", recvWithin(t, r))
	require.NoError(t, p.Terminate())
	_ = p.Join()
	code, _ := p.ExitCode()
	assert.Equal(t, -15, code)
	require.NoError(t, w.Close())
	ok, err := r.Poll(0)
	require.NoError(t, err)
	if ok {
		_, err = r.RecvBytes()
		assert.ErrorIs(t, err, io.EOF, "nothing sent: it died at once")
	}

	pids = waitIdle(t, 2, []int{p.PID()})
	r, w = pipe(t, false)
	q := newProcess(mp.Forkserver, stopOnCancel, w)
	q.GracePeriod = time.Minute
	start(t, q)
	require.NoError(t, w.Close())
	assert.NotContains(t, pids, q.PID(), "a cold start")
	require.Equal(t, "ready", recvWithin(t, r))
	require.NoError(t, q.Terminate())
	assert.Equal(t, mp.ErrTerminated.Error(), recvWithin(t, r))
	assert.Equal(t, "at exit", recvWithin(t, r))
	_ = q.Join()
	code, _ = q.ExitCode()
	assert.Equal(t, -15, code)
}
