package mp_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
)

func init() {
	// Task keeps a function's types, so that workers call it without
	// reflect; the others (failAt, panicAt, pickyResult, sumInts) take the
	// reflect path, and Starmap's functions always do.
	ipcTargets = append(ipcTargets, mp.Task(sqr), mul, mp.Task(pidOf), failAt, mp.Task(failAtT), panicAt,
		mp.Task(panicAtT), mp.Task(nap), mp.Task(die), mp.Task(echoBytes), mp.Task(pickySqr), pickyResult,
		initPut, initFail, initFlaky, barrier, sumInts, varSum, mp.Task(grow))
}

// Task functions of the pool tests.

func sqr(x int) (int, error) { return x * x, nil }

func mul(x, y int) (int, error) { return x * y, nil }

func varSum(base int, xs ...int) (int, error) {
	for _, x := range xs {
		base += x
	}
	return base, nil
}

func sumInts(xs []int) (int, error) {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s, nil
}

// pidOf returns the worker's PID.
func pidOf(int) (int, error) { return os.Getpid(), nil }

func failAt(x int) (int, error) {
	if x == 7 {
		return 0, &testError{fmt.Sprintf("no %d", x)}
	}
	return x * x, nil
}

// failAtT and panicAtT are failAt and panicAt, registered with Task.
func failAtT(x int) (int, error) { return failAt(x) }

func panicAtT(x int) (int, error) { return panicAt(x) }

func panicAt(x int) (int, error) {
	if x == 3 {
		panicky(strconv.Itoa(x))
	}
	return x * x, nil
}

// nap sleeps d and returns the worker's PID.
func nap(d time.Duration) (int, error) {
	time.Sleep(d)
	return os.Getpid(), nil
}

func echoBytes(b []byte) ([]byte, error) { return b, nil }

// die ends the worker as mode says, or returns its PID.
func die(mode string) (int, error) {
	switch mode {
	case "kill":
		p, _ := os.FindProcess(os.Getpid()) // ourselves: no PID reuse
		_ = p.Kill()
		select {}
	case "exit":
		os.Exit(3)
	case "exit0":
		os.Exit(0)
	case "crash":
		crash()
	}
	return os.Getpid(), nil
}

// picky is an int that refuses to be encoded when negative.
type picky int

func (p picky) MarshalBinary() ([]byte, error) {
	if p < 0 {
		return nil, fmt.Errorf("picky: %d is negative", int(p))
	}
	return []byte(strconv.Itoa(int(p))), nil
}

func (p *picky) UnmarshalBinary(b []byte) error {
	n, err := strconv.Atoi(string(b))
	*p = picky(n)
	return err
}

func pickySqr(x picky) (int, error) { return int(x * x), nil }

// pickyResult returns a result that cannot be encoded for negative x.
func pickyResult(x int) (picky, error) { return picky(x), nil }

// initPut is an initializer: it puts the worker's PID on q.
func initPut(q *mp.Queue) error { return q.Put(os.Getpid()) }

func initFail() error { return errors.New("no setup today") }

// initFlaky ends its worker with os.Exit(7) unless the file exists.
func initFlaky(path string) error {
	if _, err := os.Stat(path); err != nil {
		os.Exit(7)
	}
	return nil
}

// barrier marks dir with the worker's PID and waits, at most 60 s (workers
// boot slowly on a loaded machine), until n workers have: n tasks running
// at once prove n live workers.
func barrier(dir string, n int) (int, error) {
	pid := os.Getpid()
	if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(pid)), nil, 0o600); err != nil {
		return 0, err
	}
	for end := time.Now().Add(60 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if es, _ := os.ReadDir(dir); len(es) >= n {
			return pid, nil
		}
	}
	return 0, errors.New("barrier: not enough workers")
}

// grow holds n more bytes for as long as the worker lives.
var hoard [][]byte

func grow(n int) (int, error) {
	b := make([]byte, n)
	for i := range b {
		b[i] = 1
	}
	hoard = append(hoard, b)
	return os.Getpid(), nil
}

// requireWhole checks that no worker of p was lost: as many tasks as it
// has workers run at once, in as many processes.
func requireWhole(t *testing.T, p *mp.Pool, workers int) {
	t.Helper()
	dir := t.TempDir()
	args := make([][]any, workers)
	for i := range args {
		args[i] = []any{dir, workers}
	}
	pids, err := mp.Starmap[int](p, barrier, args, mp.WithChunksize(1))
	require.NoError(t, err, "as many tasks as workers at once: %s", mp.PoolState(p))
	slices.Sort(pids)
	assert.Len(t, slices.Compact(pids), workers)
}

// newPool starts a pool that the test terminates and joins at its end.
func newPool(t *testing.T, n int, opts ...mp.PoolOption) *mp.Pool {
	t.Helper()
	p, err := mp.NewPool(n, opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = p.Terminate()
		_ = p.Join()
	})
	return p
}

// closeJoin closes and joins p, failing the test if Join takes too long.
func closeJoin(t *testing.T, p *mp.Pool) {
	t.Helper()
	require.NoError(t, p.Close())
	within(t, 30*time.Second, "Join", func() { require.NoError(t, p.Join()) })
}

// within runs f, failing the test if it has not returned after d.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
	}
}

func ints(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func squares(xs []int) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = x * x
	}
	return out
}

// forMethods runs f under each start method.
func forMethods(t *testing.T, f func(t *testing.T, m mp.StartMethod)) {
	for _, m := range mp.AllStartMethods() {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			f(t, m)
		})
	}
}

// Ports of CPython's _TestPool.

func TestPoolMap(t *testing.T) {
	t.Parallel()
	forMethods(t, func(t *testing.T, m mp.StartMethod) {
		p := newPool(t, 4, mp.WithStartMethod(m))
		got, err := mp.Map(p, sqr, ints(10))
		require.NoError(t, err)
		assert.Equal(t, squares(ints(10)), got)
		got, err = mp.Map(p, sqr, ints(100), mp.WithChunksize(20))
		require.NoError(t, err)
		assert.Equal(t, squares(ints(100)), got)
		got, err = mp.MapAsync(p, sqr, ints(10)).Get()
		require.NoError(t, err)
		assert.Equal(t, squares(ints(10)), got)
		// Slices cross as items.
		sums, err := mp.Map(p, sumInts, [][]int{nil, {}, {1, 2, 3}, ints(1000)})
		require.NoError(t, err)
		assert.Equal(t, []int{0, 0, 6, 499500}, sums)
		closeJoin(t, p)
	})
}

// TestPoolManyWorkers is CPython's sum(map(sqr, range(1000))) with 200
// workers. It runs alone: 200 processes booting on two cores would starve
// the other tests' workers. On Windows it has 50: the lane that tests it
// runs under Wine 8, whose CreateProcess was seen to hang for good, now
// and then, in a burst of 200 (9 minutes in os.StartProcess, until the
// test binary's timeout).
func TestPoolManyWorkers(t *testing.T) {
	workers := 200
	if runtime.GOOS == "windows" {
		workers = 50
	}
	p := newPool(t, workers)
	got, err := mp.Map(p, sqr, ints(1000))
	require.NoError(t, err)
	sum := 0
	for _, v := range got {
		sum += v
	}
	assert.Equal(t, 332833500, sum)
	closeJoin(t, p)
}

func TestPoolApply(t *testing.T) {
	t.Parallel()
	forMethods(t, func(t *testing.T, m mp.StartMethod) {
		p := newPool(t, 2, mp.WithStartMethod(m))
		v, err := mp.Apply(p, sqr, 5)
		require.NoError(t, err)
		assert.Equal(t, 25, v)

		r := mp.ApplyAsync(p, nap, 2*time.Second) // long enough to be running through both waits below
		assert.False(t, r.Ready())
		assert.False(t, r.Successful(), "not ready")
		t0 := time.Now()
		_, err = r.GetTimeout(50 * time.Millisecond)
		require.ErrorIs(t, err, mp.ErrNotReady)
		assert.GreaterOrEqual(t, time.Since(t0), 50*time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		_, err = r.GetContext(ctx)
		cancel()
		require.ErrorIs(t, err, mp.ErrNotReady)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		pid, err := r.Get()
		require.NoError(t, err)
		assert.NotEqual(t, os.Getpid(), pid)
		assert.True(t, r.Ready())
		assert.True(t, r.Successful())
		r.Wait()
		<-r.Done()

		f := mp.ApplyAsync(p, failAt, 7)
		f.Wait()
		assert.False(t, f.Successful())
		_, err = f.Get()
		var te *mp.TaskError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, 0, te.Index)
		closeJoin(t, p)
	})
}

func TestPoolStarmap(t *testing.T) {
	t.Parallel()
	p := newPool(t, 4)
	var args [][]any
	want := []int{}
	for i := range 100 {
		args = append(args, []any{i, 99 - i})
		want = append(want, i*(99-i))
	}
	got, err := mp.Starmap[int](p, mul, args[:10])
	require.NoError(t, err)
	assert.Equal(t, want[:10], got)
	got, err = mp.Starmap[int](p, mul, args, mp.WithChunksize(20))
	require.NoError(t, err)
	assert.Equal(t, want, got)
	got, err = mp.StarmapAsync[int](p, mul, args).Get()
	require.NoError(t, err)
	assert.Equal(t, want, got)
	got, err = mp.Starmap[int](p, varSum, [][]any{{1}, {1, 2, 3}})
	require.NoError(t, err)
	assert.Equal(t, []int{1, 6}, got)

	_, err = mp.Starmap[int](p, mul, [][]any{{1, 2}, {1, "x"}})
	require.ErrorIs(t, err, mp.ErrArgs)
	assert.Contains(t, err.Error(), "argument list 1")
	_, err = mp.Starmap[string](p, mul, args)
	require.ErrorIs(t, err, mp.ErrInvalidTarget)
	closeJoin(t, p)
}

func TestPoolImap(t *testing.T) {
	t.Parallel()
	forMethods(t, func(t *testing.T, m mp.StartMethod) {
		p := newPool(t, 4, mp.WithStartMethod(m))
		var got []int
		for v, err := range mp.Imap(p, sqr, ints(10)) {
			require.NoError(t, err)
			got = append(got, v)
		}
		assert.Equal(t, squares(ints(10)), got)
		got = got[:0]
		for v, err := range mp.Imap(p, sqr, ints(1000), mp.WithChunksize(100)) {
			require.NoError(t, err)
			got = append(got, v)
		}
		assert.Equal(t, squares(ints(1000)), got)

		got = got[:0]
		for v, err := range mp.ImapUnordered(p, sqr, ints(1000), mp.WithChunksize(100)) {
			require.NoError(t, err)
			got = append(got, v)
		}
		slices.Sort(got)
		assert.Equal(t, squares(ints(1000)), got)
		closeJoin(t, p)
	})
}

// TestPoolImapFailure: results before a failing task come first, the
// failure comes as that task's error, and the loop may go on (CPython's
// imap stops at the failing chunk).
func TestPoolImapFailure(t *testing.T) {
	t.Parallel()
	p := newPool(t, 3)
	for _, chunk := range []int{1, 2, 4} {
		i := 0
		for v, err := range mp.Imap(p, failAt, ints(20), mp.WithChunksize(chunk)) {
			if i == 7 {
				var te *mp.TaskError
				require.ErrorAs(t, err, &te, "chunk %d", chunk)
				assert.Equal(t, 7, te.Index)
			} else {
				require.NoError(t, err)
				assert.Equal(t, i*i, v)
			}
			i++
		}
		assert.Equal(t, 20, i)
	}
	seen := 0
	failed := 0
	for _, err := range mp.ImapUnordered(p, failAt, ints(20), mp.WithChunksize(2)) {
		seen++
		if err != nil {
			failed++
		}
	}
	assert.Equal(t, 20, seen)
	assert.Equal(t, 1, failed)
	closeJoin(t, p)
}

// TestPoolImapBreak: breaking out of the loop withdraws the call's other
// tasks; the pool goes on.
func TestPoolImapBreak(t *testing.T) {
	t.Parallel()
	p := newPool(t, 2)
	items := make([]time.Duration, 1000)
	for i := range items {
		items[i] = 5 * time.Millisecond
	}
	t0 := time.Now()
	for range mp.Imap(p, nap, items) {
		break
	}
	// 1000 tasks of 5 ms on 2 workers would take 2.5 s.
	v, err := mp.Apply(p, sqr, 3)
	require.NoError(t, err)
	assert.Equal(t, 9, v)
	assert.Less(t, time.Since(t0), 2*time.Second)
	closeJoin(t, p)
}

func TestPoolEmpty(t *testing.T) {
	t.Parallel()
	p := newPool(t, 1)
	got, err := mp.Map(p, sqr, nil)
	require.NoError(t, err)
	assert.Empty(t, got)
	for range mp.Imap(p, sqr, []int{}) {
		t.Fatal("Imap of nothing yielded")
	}
	for range mp.ImapUnordered(p, sqr, []int{}) {
		t.Fatal("ImapUnordered of nothing yielded")
	}
	r := mp.MapAsync(p, sqr, nil, mp.WithChunksize(1))
	within(t, 5*time.Second, "MapAsync of nothing", func() {
		got, err := r.Get()
		require.NoError(t, err)
		assert.Empty(t, got)
	})
	closeJoin(t, p)
}

func TestPoolMisuse(t *testing.T) {
	t.Parallel()
	_, err := mp.NewPool(-1)
	require.ErrorIs(t, err, mp.ErrArgs, "Pool(-1); Pool(0) is Go's Pool(None): CPUCount() workers")
	for _, o := range []mp.PoolOption{mp.WithMaxTasksPerChild(0), mp.WithMaxTasksPerChild(-1),
		mp.WithTaskTimeout(0), mp.WithMaxMemory(0)} {
		_, err := mp.NewPool(1, o)
		require.ErrorIs(t, err, mp.ErrArgs)
		assert.Regexp(t, `^mp: `, err.Error())
	}
	_, err = mp.NewPool(1, mp.WithStartMethod("vfork"))
	require.ErrorIs(t, err, mp.ErrInvalidStartMethod)
	_, err = mp.NewPool(1, mp.WithInitializer(unregistered))
	require.ErrorIs(t, err, mp.ErrInvalidTarget)
	_, err = mp.NewPool(1, mp.WithInitializer(initPut, "not a queue"))
	require.ErrorIs(t, err, mp.ErrArgs)
	_, err = mp.NewPool(1, mp.WithInitializer(sqr, 1))
	require.ErrorIs(t, err, mp.ErrInvalidTarget)

	p := newPool(t, 1)
	assert.Equal(t, "<Pool state=RUN pool_size=1>", p.String())
	require.ErrorIs(t, p.Join(), mp.ErrPoolRunning)
	_, err = mp.Map(p, func(x int) (int, error) { return x, nil }, ints(3))
	require.ErrorIs(t, err, mp.ErrInvalidTarget, "a closure")
	_, err = mp.Map(p, sqr, ints(3), mp.WithChunksize(0))
	require.ErrorIs(t, err, mp.ErrArgs)

	require.NoError(t, p.Close())
	require.NoError(t, p.Close())
	assert.Equal(t, "<Pool state=CLOSE pool_size=1>", p.String())
	_, err = mp.Map(p, sqr, ints(3))
	require.ErrorIs(t, err, mp.ErrPoolClosed)
	_, err = mp.Apply(p, sqr, 3)
	require.ErrorIs(t, err, mp.ErrPoolClosed)
	_, err = mp.MapAsync(p, sqr, ints(3)).Get()
	require.ErrorIs(t, err, mp.ErrPoolClosed)
	for _, err := range mp.Imap(p, sqr, ints(3)) {
		require.ErrorIs(t, err, mp.ErrPoolClosed)
	}
	within(t, 10*time.Second, "Join", func() { require.NoError(t, p.Join()) })
	require.NoError(t, p.Join())
	require.NoError(t, p.Terminate())
}

// TestPoolTerminate: Terminate with 10,000 pending tasks returns at once,
// and every task fails with ErrPoolTerminated.
func TestPoolTerminate(t *testing.T) {
	t.Parallel()
	p, err := mp.NewPool(3)
	require.NoError(t, err)
	items := make([]time.Duration, 10000)
	for i := range items {
		items[i] = time.Hour
	}
	r := mp.MapAsync(p, nap, items, mp.WithChunksize(1))
	t0 := time.Now()
	within(t, 10*time.Second, "Terminate", func() { require.NoError(t, p.Terminate()) })
	within(t, 10*time.Second, "Join", func() { require.NoError(t, p.Join()) })
	t.Logf("Terminate and Join took %v", time.Since(t0))
	assert.Empty(t, mp.PoolWorkers(p))
	assert.Equal(t, "<Pool state=TERMINATE pool_size=3>", p.String())
	within(t, 5*time.Second, "Get", func() {
		_, err := r.Get()
		require.ErrorIs(t, err, mp.ErrPoolTerminated)
	})
	_, err = mp.Map(p, sqr, ints(3))
	require.ErrorIs(t, err, mp.ErrPoolClosed)
}

// TestPoolNoFailFast: a failing Map still waits for its other tasks
// (CPython's test_map_no_failfast).
func TestPoolNoFailFast(t *testing.T) {
	t.Parallel()
	p := newPool(t, 2)
	t0 := time.Now()
	got, err := mp.Map(p, failAt, []int{7, 1, 2})
	require.Error(t, err)
	assert.Equal(t, []int{0, 1, 4}, got, "the other tasks' results")
	_, err = mp.Map(p, nap, []time.Duration{0, 300 * time.Millisecond})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(t0), 300*time.Millisecond)
	closeJoin(t, p)
}

// Ports of CPython's _TestPoolWorkerErrors, and what a task's failure
// brings home.

func TestPoolTaskErrors(t *testing.T) {
	t.Parallel()
	forMethods(t, func(t *testing.T, m mp.StartMethod) {
		p := newPool(t, 2, mp.WithStartMethod(m))
		var te *mp.TaskError
		var ee *mp.ExitError
		for _, f := range []func(int) (int, error){panicAt, panicAtT} {
			got, err := mp.Map(p, f, ints(6), mp.WithChunksize(2))
			require.ErrorAs(t, err, &te)
			assert.Equal(t, 3, te.Index)
			require.ErrorAs(t, err, &ee)
			assert.Equal(t, "boom: 3", ee.Panic)
			assert.Equal(t, 1, ee.Code)
			assert.Contains(t, ee.Stack, "mp_test.panicky(")
			assert.Contains(t, ee.Stack, "mp_test.panicAt(")
			assert.Regexp(t, `^mp: task 3: \w+PoolWorker-\d+ \(pid \d+\) panicked: boom: 3$`, err.Error())
			assert.Equal(t, []int{0, 1, 4, 0, 16, 25}, got)
		}
		for _, f := range []func(int) (int, error){failAt, failAtT} {
			_, err := mp.Apply(p, f, 7)
			require.ErrorAs(t, err, &ee)
			assert.Equal(t, "no 7", ee.Err)
			assert.Equal(t, "*mp_test.testError", ee.ErrType)
			assert.Regexp(t, `^mp: task 0: \w+PoolWorker-\d+ \(pid \d+\): the task returned an error: no 7$`, err.Error())
		}

		// An item or a result that cannot be encoded fails alone, and the
		// pool loses no worker over it (CPython's test_unpickleable_result
		// runs it 20 times).
		for range 20 {
			got, err := mp.Map(p, pickySqr, []picky{1, -2, 3})
			require.ErrorIs(t, err, mp.ErrBadMessage)
			require.ErrorAs(t, err, &te)
			assert.Equal(t, 1, te.Index)
			assert.Contains(t, err.Error(), "picky: -2 is negative")
			assert.Equal(t, []int{1, 0, 9}, got)

			res, err := mp.Map(p, pickyResult, []int{4, -5, 6})
			require.ErrorIs(t, err, mp.ErrBadMessage)
			require.ErrorAs(t, err, &te)
			assert.Equal(t, 1, te.Index)
			assert.Contains(t, err.Error(), "picky: -5 is negative")
			assert.Equal(t, []picky{4, 0, 6}, res)
		}
		// A Conn crosses only into a process started with it: as an item
		// the worker cannot decode it, and that task fails alone.
		a, b, err := mp.Pipe(true)
		require.NoError(t, err)
		defer a.Close()
		defer b.Close()
		_, err = mp.Map(p, identityConn, []*mp.Conn{a})
		require.ErrorIs(t, err, mp.ErrBadMessage)
		assert.Contains(t, err.Error(), mp.ErrNotPassable.Error())
		v, err := mp.Apply(p, sqr, 6)
		require.NoError(t, err)
		assert.Equal(t, 36, v)
		closeJoin(t, p)
	})
}

func identityConn(c *mp.Conn) (int, error) { return 0, nil }

func init() { ipcTargets = append(ipcTargets, identityConn) }

// TestPoolWorkerDeath: a worker that dies mid-task fails exactly that task
// with its exit code, is replaced, and the other tasks complete; twenty
// times over, with no worker lost.
func TestPoolWorkerDeath(t *testing.T) {
	t.Parallel()
	forMethods(t, func(t *testing.T, m mp.StartMethod) {
		const workers = 3
		p := newPool(t, workers, mp.WithStartMethod(m))
		modes := []string{"kill", "exit", "crash", "exit0"}
		for round := range 20 {
			mode := modes[round%len(modes)]
			items := []string{"", "", "", mode, "", "", ""}
			var got []int
			var errs []error
			within(t, 60*time.Second, "Imap", func() {
				for v, err := range mp.Imap(p, die, items) {
					got, errs = append(got, v), append(errs, err)
				}
			})
			require.Len(t, errs, len(items))
			for i, err := range errs {
				if i != 3 {
					require.NoError(t, err, "round %d, task %d", round, i)
					assert.NotEqual(t, os.Getpid(), got[i])
					continue
				}
				var te *mp.TaskError
				require.ErrorAs(t, err, &te, "round %d (%s)", round, mode)
				assert.Equal(t, 3, te.Index)
				var ee *mp.ExitError
				require.ErrorAs(t, err, &ee)
				switch mode {
				case "kill":
					if runtime.GOOS != "windows" {
						assert.Equal(t, -9, ee.Code)
					}
				case "exit":
					assert.Equal(t, 3, ee.Code)
				case "crash":
					assert.Equal(t, 2, ee.Code)
					assert.Contains(t, ee.Output, "crash in a goroutine")
				case "exit0":
					assert.Equal(t, 0, ee.Code)
				}
			}
		}
		requireWhole(t, p, workers)
		closeJoin(t, p)
	})
}

// TestPoolDeathInChunk: with chunks, a death fails the tasks of the dying
// worker's chunk that had not come home, and nothing else.
func TestPoolDeathInChunk(t *testing.T) {
	t.Parallel()
	p := newPool(t, 2)
	items := make([]string, 40)
	items[13] = "exit"
	got, err := mp.Map(p, die, items, mp.WithChunksize(10))
	require.Error(t, err)
	for i := range items {
		if i >= 10 && i < 20 {
			assert.Zero(t, got[i], "task %d of the dead worker's chunk", i)
		} else {
			assert.NotZero(t, got[i], "task %d", i)
		}
	}
	var errs []int
	for _, err := range mp.Imap(p, die, items, mp.WithChunksize(10)) {
		var te *mp.TaskError
		if errors.As(err, &te) {
			errs = append(errs, te.Index)
		}
	}
	assert.Equal(t, ints(20)[10:], errs)
	closeJoin(t, p)
}

// TestPoolTaskTimeout: the worker running an overdue task is killed and
// replaced; that task fails with ErrTaskTimeout, the others run.
func TestPoolTaskTimeout(t *testing.T) {
	t.Parallel()
	forMethods(t, func(t *testing.T, m mp.StartMethod) {
		p := newPool(t, 2, mp.WithStartMethod(m), mp.WithTaskTimeout(500*time.Millisecond))
		items := []time.Duration{0, time.Hour, 0, 0, time.Hour, 0, 0, 0}
		t0 := time.Now()
		got, err := mp.Map(p, nap, items, mp.WithChunksize(4))
		elapsed := time.Since(t0)
		require.ErrorIs(t, err, mp.ErrTaskTimeout)
		var ee *mp.ExitError
		require.ErrorAs(t, err, &ee)
		if runtime.GOOS != "windows" {
			assert.Equal(t, -9, ee.Code)
		}
		for i, d := range items {
			if d == time.Hour {
				assert.Zero(t, got[i])
			} else {
				assert.NotZero(t, got[i], "task %d", i)
			}
		}
		assert.Less(t, elapsed, 30*time.Second)
		assert.GreaterOrEqual(t, elapsed, 500*time.Millisecond)
		var te *mp.TaskError
		for _, err := range mp.Imap(p, nap, items) {
			if err != nil {
				require.ErrorAs(t, err, &te)
				assert.Contains(t, []int{1, 4}, te.Index)
				assert.ErrorIs(t, err, mp.ErrTaskTimeout)
				assert.Contains(t, err.Error(), "task timed out after 500ms")
			}
		}
		closeJoin(t, p)
	})
}

// TestPoolCancel: cancelling a call's context stops handing out its tasks
// and returns ctx.Err(); with WithKillOnCancel the workers running them
// are killed and replaced.
func TestPoolCancel(t *testing.T) {
	t.Parallel()
	p := newPool(t, 2)
	items := make([]time.Duration, 100)
	for i := range items {
		items[i] = time.Hour
	}
	items[0] = 0
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	before := mp.PoolWorkers(p)
	t0 := time.Now()
	_, err := mp.MapContext(ctx, p, nap, items, mp.WithChunksize(1), mp.WithKillOnCancel())
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(t0), 10*time.Second)
	// The workers that ran hour-long naps were killed: a new call runs.
	within(t, 30*time.Second, "Map after a cancelled call", func() {
		got, err := mp.Map(p, sqr, ints(10))
		require.NoError(t, err)
		assert.Equal(t, squares(ints(10)), got)
	})
	for _, w := range before {
		within(t, 10*time.Second, "the killed worker's exit", func() { <-w.Done() })
	}

	// Without the option the running tasks finish; the call returns at once.
	ctx, cancel = context.WithCancel(context.Background())
	r := mp.ApplyAsyncContext(ctx, p, nap, 300*time.Millisecond)
	cancel()
	_, err = r.Get()
	require.ErrorIs(t, err, context.Canceled)
	v, err := mp.Apply(p, sqr, 4)
	require.NoError(t, err)
	assert.Equal(t, 16, v)

	// A call whose context is already done runs nothing.
	_, err = mp.MapContext(ctx, p, sqr, ints(3))
	require.ErrorIs(t, err, context.Canceled)
	n := 0
	for _, err := range mp.ImapContext(ctx, p, sqr, ints(3)) {
		require.ErrorIs(t, err, context.Canceled)
		n++
	}
	assert.Equal(t, 1, n)
	closeJoin(t, p)
}

// Ports of CPython's initializer test and _TestPoolWorkerLifetime.

func TestPoolInitializer(t *testing.T) {
	t.Parallel()
	forMethods(t, func(t *testing.T, m mp.StartMethod) {
		q, err := mp.NewQueue(0)
		require.NoError(t, err)
		defer q.Close()
		p := newPool(t, 3, mp.WithStartMethod(m), mp.WithInitializer(initPut, q))
		inits := map[int]bool{}
		for range 3 {
			var pid int
			require.NoError(t, q.GetTimeout(&pid, 30*time.Second))
			inits[pid] = true
		}
		assert.Len(t, inits, 3, "once per worker")
		pids, err := mp.Map(p, pidOf, ints(30), mp.WithChunksize(1))
		require.NoError(t, err)
		for _, pid := range pids {
			assert.True(t, inits[pid], "task in a worker whose initializer ran")
		}
		closeJoin(t, p)
		var extra int
		assert.ErrorIs(t, q.GetNoWait(&extra), mp.ErrEmpty, "no initializer ran twice")
	})
}

func TestPoolBrokenInitializer(t *testing.T) {
	t.Parallel()
	p := newPool(t, 2, mp.WithInitializer(initFail))
	var err error
	within(t, 30*time.Second, "Map on a broken pool", func() { _, err = mp.Map(p, sqr, ints(10)) })
	require.ErrorIs(t, err, mp.ErrPoolBroken)
	var ee *mp.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Contains(t, ee.Err, "no setup today")
	_, err = mp.Apply(p, sqr, 1)
	require.ErrorIs(t, err, mp.ErrPoolBroken)
	closeJoin(t, p)

	// A worker that exits in its initializer is replaced, up to three in a
	// row.
	flag := filepath.Join(t.TempDir(), "ready")
	p = newPool(t, 1, mp.WithInitializer(initFlaky, flag))
	within(t, 30*time.Second, "Map on a pool whose initializer dies", func() { _, err = mp.Map(p, sqr, ints(3)) })
	require.ErrorIs(t, err, mp.ErrPoolBroken)
	closeJoin(t, p)
	require.NoError(t, os.WriteFile(flag, nil, 0o600))
	p = newPool(t, 1, mp.WithInitializer(initFlaky, flag))
	got, err := mp.Map(p, sqr, ints(3))
	require.NoError(t, err)
	assert.Equal(t, squares(ints(3)), got)
	closeJoin(t, p)
}

func TestPoolMaxTasksPerChild(t *testing.T) {
	t.Parallel()
	forMethods(t, func(t *testing.T, m mp.StartMethod) {
		p := newPool(t, 3, mp.WithStartMethod(m), mp.WithMaxTasksPerChild(10))
		var rs []*mp.AsyncResult[int]
		for i := range 100 {
			rs = append(rs, mp.ApplyAsync(p, pidOf, i))
		}
		count := map[int]int{}
		for _, r := range rs {
			pid, err := r.Get()
			require.NoError(t, err)
			count[pid]++
		}
		assert.GreaterOrEqual(t, len(count), 10, "at most 10 tasks per worker")
		for pid, n := range count {
			assert.LessOrEqual(t, n, 10, "pid %d", pid)
		}
		// Chunks are cut to the budget.
		pids, err := mp.Map(p, pidOf, ints(50), mp.WithChunksize(25))
		require.NoError(t, err)
		count = map[int]int{}
		for _, pid := range pids {
			count[pid]++
		}
		for pid, n := range count {
			assert.LessOrEqual(t, n, 10, "pid %d", pid)
		}
		closeJoin(t, p)
	})
}

// TestPoolMaxTasksEarlyClose is CPython's
// test_pool_worker_lifetime_early_close (bpo-10332).
func TestPoolMaxTasksEarlyClose(t *testing.T) {
	t.Parallel()
	p := newPool(t, 3, mp.WithMaxTasksPerChild(1))
	var rs []*mp.AsyncResult[int]
	for i := range 6 {
		rs = append(rs, mp.ApplyAsync(p, sqr, i))
	}
	closeJoin(t, p)
	for i, r := range rs {
		v, err := r.Get()
		require.NoError(t, err)
		assert.Equal(t, i*i, v)
	}
}

func TestPoolMaxMemory(t *testing.T) {
	t.Parallel()
	// Every worker holds more than a byte: each is recycled after a chunk.
	p := newPool(t, 1, mp.WithMaxMemory(1))
	pids, err := mp.Map(p, pidOf, ints(4), mp.WithChunksize(1))
	require.NoError(t, err)
	slices.Sort(pids)
	assert.Len(t, slices.Compact(pids), 4)
	closeJoin(t, p)

	// A worker that grows past 64 MiB is recycled; one below is kept.
	p = newPool(t, 1, mp.WithMaxMemory(64<<20))
	pids, err = mp.Map(p, grow, []int{1 << 20, 1 << 20, 80 << 20, 1 << 20}, mp.WithChunksize(1))
	require.NoError(t, err)
	assert.Equal(t, pids[0], pids[1])
	assert.Equal(t, pids[1], pids[2], "measured after the chunk")
	assert.NotEqual(t, pids[2], pids[3], "recycled")
	closeJoin(t, p)
}

// TestPoolSizes: items and results of every size, from nothing to above
// the pipe's buffer, come back whole, in chunks and alone.
func TestPoolSizes(t *testing.T) {
	t.Parallel()
	forMethods(t, func(t *testing.T, m mp.StartMethod) {
		p := newPool(t, 2, mp.WithStartMethod(m))
		rng := rand.New(rand.NewPCG(1, 2))
		var items [][]byte
		for _, n := range []int{0, 1, 4095, 4096, 4097, 65535, 65536, 65537, 1 << 20} {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			items = append(items, b)
		}
		for _, chunk := range []int{1, 3, len(items)} {
			got, err := mp.Map(p, echoBytes, items, mp.WithChunksize(chunk))
			require.NoError(t, err)
			for i := range items {
				assert.Equal(t, len(items[i]), len(got[i]))
				assert.True(t, slices.Equal(items[i], got[i]), "item %d", i)
			}
		}
		closeJoin(t, p)
	})
}

func TestPoolExplicitClose(t *testing.T) {
	t.Parallel()
	p, err := mp.NewPool(2)
	require.NoError(t, err)
	workers := mp.PoolWorkers(p)
	require.Len(t, workers, 2)
	r := mp.MapAsync(p, nap, []time.Duration{100 * time.Millisecond, 100 * time.Millisecond, 0})
	require.NoError(t, p.Close())
	within(t, 30*time.Second, "Join", func() { require.NoError(t, p.Join()) })
	got, err := r.Get()
	require.NoError(t, err, "Close lets the tasks finish")
	assert.Len(t, got, 3)
	for _, w := range workers {
		code, exited := w.ExitCode()
		assert.True(t, exited)
		assert.Equal(t, 0, code)
		assert.True(t, w.Daemon)
		assert.Regexp(t, `^SpawnPoolWorker-\d+$`, w.Name)
	}
}

// stamp is echoStamped's item and result: a payload and its checksum.
type stamp struct {
	Seq  int
	Data []byte
	Sum  uint64
}

func checksum(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h
}

// echoStamped checks its item's checksum and sends it back whole.
func echoStamped(s stamp) (stamp, error) {
	if checksum(s.Data) != s.Sum {
		return stamp{}, fmt.Errorf("item %d arrived corrupted", s.Seq)
	}
	return s, nil
}

func init() { ipcTargets = append(ipcTargets, mp.Task(echoStamped)) }

// TestPoolAbuse runs several calls at once on one pool with items and
// results of random sizes (0 bytes to above the pipe's buffer), while
// workers are SIGKILLed at random moments. Every call must end in time;
// every result must be intact and belong to its item; a task may fail only
// with the *ExitError of a killed worker, and no more tasks may fail than
// the killed workers held. MP_SOAK=30s runs it that long.
func TestPoolAbuse(t *testing.T) {
	t.Parallel()
	d := 2 * time.Second
	if s := os.Getenv("MP_SOAK"); s != "" {
		var err error
		d, err = time.ParseDuration(s)
		require.NoError(t, err)
	}
	const workers, callers = 4, 3
	p := newPool(t, workers)
	end := time.Now().Add(d)
	kills := make(chan []*mp.Process, 1)
	go func() {
		// The killer: a random worker every 20 to 120 ms.
		rng := rand.New(rand.NewPCG(7, 8))
		var killed []*mp.Process
		defer func() { kills <- killed }()
		for time.Now().Before(end) {
			time.Sleep(time.Duration(20+rng.IntN(100)) * time.Millisecond)
			if ws := mp.PoolWorkers(p); len(ws) > 0 {
				if w := ws[rng.IntN(len(ws))]; w.Kill() == nil {
					killed = append(killed, w)
				}
			}
		}
	}()
	type tally struct{ ok, killed int }
	results := make(chan tally, callers)
	for c := range callers {
		go func() {
			var tl tally
			defer func() { results <- tl }()
			rng := rand.New(rand.NewPCG(uint64(c), 99))
			for round := 0; time.Now().Before(end); round++ {
				items := make([]stamp, 1+rng.IntN(40))
				for i := range items {
					n := 0
					switch rng.IntN(4) {
					case 0:
					case 1:
						n = rng.IntN(4097)
					case 2:
						n = 60_000 + rng.IntN(10_000) // around a pipe's 64 KiB
					case 3:
						n = rng.IntN(300_000)
					}
					b := make([]byte, n)
					for k := range b {
						b[k] = byte(rng.Uint32())
					}
					items[i] = stamp{Seq: i, Data: b, Sum: checksum(b)}
				}
				chunk := mp.WithChunksize(1 + rng.IntN(4))
				i := 0
				for got, err := range mp.Imap(p, echoStamped, items, chunk) {
					if err != nil {
						var ee *mp.ExitError
						if !assert.ErrorAs(t, err, &ee) || !assert.Equal(t, -9, ee.Code, "%v", err) {
							return
						}
						tl.killed++
					} else {
						if !assert.Equal(t, i, got.Seq) || !assert.Equal(t, items[i].Sum, checksum(got.Data), "result %d of round %d corrupted", i, round) {
							return
						}
						tl.ok++
					}
					i++
				}
				if !assert.Equal(t, len(items), i, "every task settled") {
					return
				}
			}
		}()
	}
	var total tally
	for range callers {
		select {
		case tl := <-results:
			total.ok += tl.ok
			total.killed += tl.killed
		case <-time.After(d + 60*time.Second):
			t.Fatal("a call did not end in time")
		}
	}
	killed := <-kills
	n := len(killed)
	t.Logf("%v: %d tasks done, %d failed with their killed worker; %d workers killed", d, total.ok, total.killed, n)
	assert.LessOrEqual(t, total.killed, 4*n, "no more tasks failed than the killed workers held (a chunk of at most 4)")
	assert.Positive(t, total.ok)
	if runtime.GOOS != "windows" {
		assert.Positive(t, n)
	}
	// A task sent to a worker that was being killed fails with it: wait
	// for the killed to exit (their pipes closed, a send to them fails
	// and the task goes to another worker), then the pool must be whole.
	for _, w := range killed {
		within(t, 30*time.Second, "a killed worker's exit", func() { <-w.Done() })
	}
	requireWhole(t, p, workers)
	closeJoin(t, p)
}

// TestPoolForgotten: a pool the program dropped is terminated once it has
// been collected, and not while a call of it runs.
func TestPoolForgotten(t *testing.T) {
	t.Parallel()
	var workers []*mp.Process
	r := func() *mp.AsyncResult[[]int] {
		p, err := mp.NewPool(2)
		require.NoError(t, err)
		workers = mp.PoolWorkers(p)
		return mp.MapAsync(p, nap, []time.Duration{200 * time.Millisecond, 200 * time.Millisecond, 0, 0}, mp.WithChunksize(1))
	}()
	for range 5 {
		runtime.GC()
	}
	got, err := r.Get()
	require.NoError(t, err, "the running call kept its pool")
	assert.Len(t, got, 4)
	require.Len(t, workers, 2)
	for _, w := range workers {
		within(t, 30*time.Second, "the forgotten pool's worker exit", func() {
			for {
				runtime.GC()
				select {
				case <-w.Done():
					return
				case <-time.After(10 * time.Millisecond):
				}
			}
		})
	}
}

// forgottenPool is a program that forgets to close its pool, one of whose
// workers runs an hour-long task, and calls mp.Shutdown as it ends.
func forgottenPool() {
	p, err := mp.NewPool(2)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	mp.ApplyAsync(p, nap, time.Hour)
	got, err := mp.Map(p, sqr, ints(4))
	fmt.Println(got, err)
	mp.Shutdown()
	fmt.Println("Shutdown returned")
}

// TestPoolShutdown: Shutdown terminates a forgotten pool's workers, which
// are daemons, rather than wait for them.
func TestPoolShutdown(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), helperEnv+"=pool")
	// Its workers share its output: if one outlived it, the test would wait
	// for the pipe for ever. Fail instead, with what it printed.
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Equal(t, "[0 1 4 9] <nil>\nShutdown returned\n", string(out))
}

// TestPoolNoPrefetchBehindLongTask: a call's tasks are never queued behind
// another call's long task while a worker is free.
func TestPoolNoPrefetchBehindLongTask(t *testing.T) {
	t.Parallel()
	p := newPool(t, 2)
	long := mp.ApplyAsync(p, nap, time.Hour)
	for range 5 {
		within(t, 30*time.Second, "Map beside an hour-long task", func() {
			got, err := mp.Map(p, sqr, ints(40), mp.WithChunksize(1))
			require.NoError(t, err)
			assert.Equal(t, squares(ints(40)), got)
		})
	}
	assert.False(t, long.Ready())
}
