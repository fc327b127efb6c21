package mp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/go-mp/mp/internal/bootstrap"
	"github.com/go-mp/mp/internal/handles"
	"github.com/go-mp/mp/internal/inherit"
	"github.com/go-mp/mp/internal/launch"
)

// child is the bootstrap state of a process that its parent started.
type child struct {
	boot   *os.File // boot pipe: bootstrap, then the lifeline
	report *os.File // report pipe
	b      *bootstrap.Boot
	files  []*os.File // the files the parent passed after the bootstrap
	life   *lifeline  // set once the target is about to run

	sendOnce sync.Once // the guard report is sent once
}

var childState struct {
	once sync.Once
	c    *child
	err  error
}

// detectChild reports whether this process is an mp child, performing the
// handshake once. It returns nil, nil in a process that is not a child; an
// error when the process is a child but cannot be bootstrapped (its parent
// died before sending the work, say).
func detectChild() (*child, error) {
	childState.once.Do(func() {
		v, ok := os.LookupEnv(bootstrap.EnvVar)
		if !ok {
			return
		}
		// The marker is for this process alone, not for programs it runs.
		os.Unsetenv(bootstrap.EnvVar)
		m, err := bootstrap.ParseMarker(v)
		if err != nil {
			return // a stray marker: not a child
		}
		boot, report, err := launch.Inherited(m.Boot, m.Report)
		if err != nil {
			return // no inherited channel: not a child
		}
		b, files, err := readBoot(boot, report, m.Nonce)
		if err != nil {
			if errors.Is(err, bootstrap.ErrBadFrame) || errors.Is(err, bootstrap.ErrNonce) {
				// Someone else's pipe: not a child.
				boot.Close()
				report.Close()
				return
			}
			childState.err = fmt.Errorf("mp: child bootstrap failed (did the parent die?): %w", err)
			return
		}
		childState.c = &child{boot: boot, report: report, b: b, files: files}
	})
	return childState.c, childState.err
}

// bootTimeout bounds the wait for the bootstrap. The parent writes it right
// after the child has been created, so only a stray marker naming someone
// else's channel waits this long. Anonymous pipes on Windows have no read
// deadlines; there the pipe-type check catches a stray marker.
const bootTimeout = time.Minute

// readBoot reads the bootstrap and the files passed after it. A child
// started ahead of time (Forkserver) is told to wait first: it says on the
// report pipe that it waits, and waits for its work as long as its parent
// lives; if its parent lets it go, or dies, first, it exits at once.
func readBoot(f, report *os.File, nonce string) (*bootstrap.Boot, []*os.File, error) {
	if f.SetReadDeadline(time.Now().Add(bootTimeout)) == nil {
		defer f.SetReadDeadline(time.Time{})
	}
	b, wait, err := bootstrap.ReadFirst(f, nonce)
	if err == nil && wait {
		_ = f.SetReadDeadline(time.Time{})
		_ = bootstrap.WriteWaiting(report)
		if b, err = bootstrap.ReadBoot(f, nonce); errors.Is(err, io.EOF) {
			os.Exit(0) // let go without work: nothing ran
		}
	}
	if err != nil {
		return nil, nil, err
	}
	n := 0
	for _, p := range b.Passed {
		if p.N > handles.MaxFiles-n {
			return nil, nil, fmt.Errorf("%w: too many passed files", bootstrap.ErrBadFrame)
		}
		n += p.N
	}
	for _, set := range b.Stdio {
		if set {
			n++
		}
	}
	files, err := handles.Receive(f, n)
	return b, files, err
}

// checkGuard is Start's main-guard check: a child that has not passed
// mp.Main must not start processes (it would start them again in every
// generation). The parent learns of it through the report.
func checkGuard() error {
	if mainCalled.Load() {
		return nil
	}
	c, err := detectChild()
	if err != nil {
		return err
	}
	if c == nil {
		return nil
	}
	c.sendOnce.Do(func() {
		_ = bootstrap.WriteReport(c.report, &bootstrap.Report{Code: 1, Err: ErrMainGuard.Error(), Guard: true})
	})
	return ErrMainGuard
}

// run runs the child's target and exits; it never returns.
func (c *child) run() {
	b := c.b
	self.proc = newSelf(b.Name, b.Identity, b.Daemon, b.AuthKey)
	self.proc.parentPID = b.ParentPID
	self.proc.kind = "Process"
	if kind, ok := strings.CutPrefix(b.Target, "runner:"); ok {
		// "runner:example.com/pkg.T", or "...pkg.T[example.com/q.U]".
		base, _, _ := strings.Cut(kind, "[")
		self.proc.kind = kind[strings.LastIndexByte(base, '.')+1:]
	}
	self.once.Do(func() {})
	parent := &Process{Name: b.ParentName, pid: b.ParentPID, role: roleParent, state: stateStarted,
		done: make(chan struct{})}
	self.parent = parent
	// Like Python's child, this one reports the method it was started
	// with, and its own children default to it: a Fork child's children
	// are given the registered globals too.
	defaultMethod.Store(StartMethod(b.Method))
	quietAll.Store(b.QuietAll)
	if b.LogStderr {
		LogToStderr(slog.Level(b.LogLevel))
	}
	// A fatal error (a panic in another goroutine, say) is written to the
	// report pipe too, so that the parent's Join can return it.
	_ = debug.SetCrashOutput(c.report, debug.CrashOptions{})

	ctx := c.watch(parent) // the lifeline
	c.finish(c.invoke(ctx))
}

// finish ends the child once its target is done. Its own children are
// joined first: what they hand over at exit joins this process's backlogs,
// or is passed up. Then what the target put on queues must reach them, or
// the parent (in rep), before the process exits with code and sends rep.
//
// A child asked to stop (Terminate, with a grace period) ends as
// terminated once that is done, whatever its target returned, as Python's
// would have: silently, with -15.
func (c *child) finish(code int, rep *bootstrap.Report) {
	terminated := c.life != nil && c.life.terminated.Load()
	if !c.b.Quiet && !terminated {
		printFailure(os.Stderr, c.b.Name, rep)
	}
	Shutdown()
	rep.Spills, rep.Lost = flushQueues()
	if terminated {
		logInfo("process exiting, terminated")
		_ = bootstrap.WriteReport(c.report, rep)
		dieTerminated() // as a dead process: its semaphore units go back
	}
	// A normal end: semaphore units still held are used up, not given
	// back as a dead process's are.
	syncAtExit()
	c.exit(code, rep)
}

func (c *child) exit(code int, rep *bootstrap.Report) {
	logInfo("process exiting", "exitcode", code)
	_ = bootstrap.WriteReport(c.report, rep)
	os.Exit(code)
}

// invoke runs the target with ctx, if it takes a context, turning its
// outcome into an exit code and report.
func (c *child) invoke(ctx context.Context) (int, *bootstrap.Report) {
	b := c.b
	fail := func(err error) (int, *bootstrap.Report) {
		return 1, &bootstrap.Report{Code: 1, Err: err.Error(), ErrType: fmt.Sprintf("%T", err), Boot: true}
	}
	// A child started ahead of time takes the standard files its Process
	// asks for: they follow the passed files.
	files := c.files
	c.files = nil
	for i := len(b.Stdio) - 1; i >= 0; i-- {
		if !b.Stdio[i] {
			continue
		}
		f := files[len(files)-1]
		files = files[:len(files)-1]
		if err := launch.TakeStdio(i, f); err != nil {
			return fail(fmt.Errorf("mp: taking standard file %d: %w", i, err))
		}
	}
	// The files passed with the arguments must be held before the
	// arguments and globals are decoded: connections and queues find
	// theirs by identity. Once decoded, the values hold them.
	sets, err := handles.Install(b.Passed, files)
	if err != nil {
		return fail(err)
	}
	if b.Globals != nil {
		if err := inherit.Restore(b.Globals); err != nil {
			return fail(err)
		}
	}
	registry.RLock()
	t := registry.byName[b.Target]
	registry.RUnlock()
	if t == nil {
		return fail(fmt.Errorf("%w: %s is not registered in the child: register it with mp.Main or mp.Register before mp.Main runs",
			ErrInvalidTarget, b.Target))
	}
	if err := t.checkProcessTarget(); err != nil {
		return fail(err)
	}
	var run func() error
	if t.typ != nil {
		r, err := t.newRunner(b.Args)
		if err != nil {
			return fail(fmt.Errorf("mp: decoding %s: %w", t.display(), err))
		}
		run = func() error { return r(ctx) }
	} else {
		in, err := t.decodeArgs(b.Args)
		if err != nil {
			return fail(fmt.Errorf("mp: decoding the arguments of %s: %w", t.display(), err))
		}
		run = func() error { return t.call(ctx, in) }
	}
	runtime.KeepAlive(sets) // decoded: the values hold what they use
	_ = bootstrap.WriteFrame(c.report, bootstrap.KindStarted, nil)
	logInfo("child process calling the target", "target", t.display())
	panicked, value, stack, err := protect(run, func() {
		// runtime.Goexit on the main goroutine would leave the process
		// running without it, for ever: end it here, as the deferred
		// calls of the target have run.
		c.finish(1, &bootstrap.Report{Code: 1, Err: errGoexit})
	})
	switch {
	case panicked:
		return 1, &bootstrap.Report{Code: 1, Panic: value, Stack: stack}
	case err != nil:
		return 1, &bootstrap.Report{Code: 1, Err: err.Error(), ErrType: fmt.Sprintf("%T", err)}
	}
	return 0, &bootstrap.Report{}
}

// errGoexit is the error a child reports when its target called
// runtime.Goexit.
const errGoexit = "mp: the target called runtime.Goexit"

// protect runs f, recovering a panic with the panicking goroutine's stack.
// If f calls runtime.Goexit, protect calls goexit, which must not return,
// once f's deferred calls have run.
func protect(f func() error, goexit func()) (panicked bool, value, stack string, err error) {
	returned := false
	defer func() {
		if r := recover(); r != nil {
			panicked, value, stack = true, fmt.Sprint(r), string(debug.Stack())
		} else if !returned {
			goexit()
		}
	}()
	err = f()
	returned = true
	return false, "", "", err
}
