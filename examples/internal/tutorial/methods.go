package tutorial

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"time"

	"github.com/go-mp/mp"
)

// settle bounds how long Methods waits for a child to reach a scheduler
// state, and for a terminated child to end: generous, for a loaded machine.
const settle = 10 * time.Second

// Methods walks through the process object's methods and attributes:
// CurrentProcess and ParentProcess, PIDs, default and given names, IsAlive,
// Status (the scheduler's state), Terminate and ExitCode.
func Methods() error {
	// Python: current_process().name, os.getpid()
	cur := mp.CurrentProcess()
	say("CurrentProcess(): name %q, PID() %d (os.Getpid() %d)", cur.Name, cur.PID(), os.Getpid())
	if mp.ParentProcess() == nil {
		say("ParentProcess(): nil, as in any main process")
	}

	// Python: p = Process(target=f); p.name is 'Process-N'
	p := mp.NewProcess(identify)
	say("default name: %s", p.Name)
	if err := p.Start(); err != nil {
		return err
	}
	if err := p.Join(); err != nil {
		return err
	}

	// Python: p = Process(target=f, name='worker')
	w := &mp.Process{Target: sleepFor, Args: []any{time.Hour}, Name: "worker"}
	say("given name: %s", w.Name)
	say("before Start: %v, IsAlive() = %v, PID() = %d", w, w.IsAlive(), w.PID())
	if err := w.Start(); err != nil {
		return err
	}
	defer func() { _ = stopChild(w, (*mp.Process).Kill) }()
	say("after Start: %v, IsAlive() = %v, PID() = %d", w, w.IsAlive(), w.PID())

	// The scheduler's view: a sleeping child is blocked, one that computes
	// is running (or ready: the OS does not tell them apart).
	spinner := mp.NewProcess(spinFor, time.Minute)
	spinner.Name = "spinner"
	if err := spinner.Start(); err != nil {
		return err
	}
	defer func() { _ = stopChild(spinner, (*mp.Process).Kill) }()
	say("active children: %s", names(mp.ActiveChildren()))
	if runtime.GOOS == "windows" {
		say("Status(): Windows reports no scheduler state, so a live child is always %q", mp.StateRunning)
	}
	for _, c := range []struct {
		p    *mp.Process
		want mp.State
		what string
	}{{w, mp.StateBlocked, "sleeping"}, {spinner, mp.StateRunning, "computing"}} {
		st, err := c.p.Status()
		if err != nil {
			return err
		}
		say("Status() of %s right after Start: %s", c.p.Name, st)
		if runtime.GOOS != "windows" {
			if st, err = waitState(c.p, c.want); err != nil {
				return err
			}
		}
		say("Status() of %s once it is %s: %s", c.p.Name, c.what, st)
	}
	// Killed, Join reports an *mp.ExitError (exit code -9); anything else
	// went wrong.
	var exit *mp.ExitError
	if err := stopChild(spinner, (*mp.Process).Kill); !errors.As(err, &exit) {
		return fmt.Errorf("killing the spinner: %v", err)
	}

	// Python: p.terminate(); print(p.is_alive()); time.sleep(0.1); print(p.is_alive())
	if err := w.Terminate(); err != nil {
		return err
	}
	say("IsAlive() right after Terminate: %v (the OS may not have ended it yet)", w.IsAlive())
	// Give the OS time with JoinTimeout rather than a bare sleep. (stopChild
	// also repeats the Terminate, should it have come too early; see there.)
	err := stopChild(w, (*mp.Process).Terminate)
	say("JoinTimeout: %v", err)
	code, exited := w.ExitCode()
	st, _ := w.Status()
	say("after JoinTimeout: IsAlive() = %v, ExitCode() = %d, %v, Status() = %s", w.IsAlive(), code, exited, st)
	say("%v", w)
	return nil
}

// stopChild ends p with end (Terminate or Kill) and waits, with
// JoinTimeout, at most settle for it to exit; it returns what JoinTimeout
// returned last.
//
// It works around an mp bug on Windows: there Terminate and Kill end the
// child through its Job Object, which the child joins only once it is
// running, so ending a child that has only just started does nothing, and
// reports success. Asking again until the child is gone gets it once it has
// joined.
func stopChild(p *mp.Process, end func(*mp.Process) error) error {
	deadline := time.Now().Add(settle)
	for {
		if err := end(p); err != nil {
			return err
		}
		err := p.JoinTimeout(250 * time.Millisecond)
		if !errors.Is(err, mp.ErrStillRunning) || time.Now().After(deadline) {
			return err
		}
	}
}

// waitState polls p's scheduler state until it is want, for at most settle.
// The OS offers no way to wait for a change of scheduler state, so this
// polls; a child may pass through other states as it starts.
func waitState(p *mp.Process, want mp.State) (mp.State, error) {
	deadline := time.Now().Add(settle)
	for {
		st, err := p.Status()
		if err != nil || st == want || time.Now().After(deadline) {
			return st, err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// names returns the names of ps, sorted.
func names(ps []*mp.Process) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return out
}

// identify is a child that says who it is and who its parent is.
func identify() {
	cur, parent := mp.CurrentProcess(), mp.ParentProcess()
	say("child: CurrentProcess().Name = %q, PID() = %d; ParentProcess().Name = %q, PID() = %d (os.Getppid() = %d)",
		cur.Name, cur.PID(), parent.Name, parent.PID(), os.Getppid())
}

// sleepFor is a child that sleeps for d.
func sleepFor(d time.Duration) { time.Sleep(d) }

// spinFor is a child that computes for d.
func spinFor(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
	}
}
