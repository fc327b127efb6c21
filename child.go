package mp

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"

	"github.com/go-mp/mp/internal/inherit"
	"github.com/go-mp/mp/spawn"
)

// child is the bootstrap state of a process that its parent started.
type child struct {
	boot   *os.File // boot pipe: bootstrap, then the lifeline
	report *os.File // report pipe
	b      *spawn.Boot

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
		v, ok := os.LookupEnv(spawn.EnvVar)
		if !ok {
			return
		}
		// The marker is for this process alone, not for programs it runs.
		os.Unsetenv(spawn.EnvVar)
		m, err := spawn.ParseMarker(v)
		if err != nil {
			return // a stray marker: not a child
		}
		boot, report, err := childFiles(m)
		if err != nil {
			return // no inherited channel: not a child
		}
		b, err := readBoot(boot, m.Nonce)
		if err != nil {
			if errors.Is(err, spawn.ErrBadFrame) || errors.Is(err, spawn.ErrNonce) {
				// Someone else's pipe: not a child.
				boot.Close()
				report.Close()
				return
			}
			childState.err = fmt.Errorf("mp: child bootstrap failed (did the parent die?): %w", err)
			return
		}
		childState.c = &child{boot: boot, report: report, b: b}
	})
	return childState.c, childState.err
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
		_ = spawn.WriteReport(c.report, &spawn.Report{Code: 1, Err: ErrMainGuard.Error(), Guard: true})
	})
	return ErrMainGuard
}

// run runs the child's target and exits; it never returns.
func (c *child) run() {
	b := c.b
	self.proc = newSelf(b.Name, b.Identity, b.Daemon, b.AuthKey)
	self.once.Do(func() {})
	parent := &Process{Name: b.ParentName, pid: b.ParentPID, role: roleParent, state: stateStarted,
		done: make(chan struct{})}
	self.parent = parent
	// A fatal error (a panic in another goroutine, say) is written to the
	// report pipe too, so that the parent's Join can return it.
	_ = debug.SetCrashOutput(c.report, debug.CrashOptions{})

	go func() {
		// The lifeline: the parent writes nothing more, so end of file
		// means it has died. Do not outlive it.
		_, _ = io.Copy(io.Discard, c.boot)
		close(parent.done)
		os.Exit(1)
	}()

	code, rep := c.invoke()
	// Join this process's children first: what they hand over at exit
	// joins this process's backlogs, or is passed up. Then what the target
	// put on queues must reach them, or the parent, before the process
	// ends.
	Shutdown()
	rep.Spills, rep.Lost = flushQueues()
	// A normal end: semaphore units still held are used up, not given
	// back as a dead process's are.
	syncAtExit()
	c.exit(code, rep)
}

func (c *child) exit(code int, rep *spawn.Report) {
	_ = spawn.WriteReport(c.report, rep)
	os.Exit(code)
}

// invoke runs the target, turning its outcome into an exit code and report.
func (c *child) invoke() (int, *spawn.Report) {
	b := c.b
	fail := func(err error) (int, *spawn.Report) {
		return 1, &spawn.Report{Code: 1, Err: err.Error(), ErrType: fmt.Sprintf("%T", err), Boot: true}
	}
	// The files passed with the arguments must be in place before the
	// arguments and globals are decoded: connections and queues find
	// theirs by index.
	inheritFiles(b.Files)
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
	var run func() error
	if t.typ != nil {
		r, err := t.newRunner(b.Args)
		if err != nil {
			return fail(fmt.Errorf("mp: decoding %s: %w", t.display(), err))
		}
		run = r.Run
	} else {
		in, err := t.decodeArgs(b.Args)
		if err != nil {
			return fail(fmt.Errorf("mp: decoding the arguments of %s: %w", t.display(), err))
		}
		run = func() error { return t.call(in) }
	}
	_ = spawn.WriteFrame(c.report, spawn.KindStarted, nil)
	panicked, value, stack, err := protect(run)
	switch {
	case panicked:
		return 1, &spawn.Report{Code: 1, Panic: value, Stack: stack}
	case err != nil:
		return 1, &spawn.Report{Code: 1, Err: err.Error(), ErrType: fmt.Sprintf("%T", err)}
	}
	return 0, &spawn.Report{}
}

// protect runs f, recovering a panic with the panicking goroutine's stack.
func protect(f func() error) (panicked bool, value, stack string, err error) {
	defer func() {
		if r := recover(); r != nil {
			panicked, value, stack = true, fmt.Sprint(r), string(debug.Stack())
		}
	}()
	return false, "", "", f()
}
