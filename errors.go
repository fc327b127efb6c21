package mp

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-mp/mp/internal/bootstrap"
)

// The causes of the cancellation of a target's context (context.Cause),
// compared with errors.Is. See Process.GracePeriod.
var (
	// ErrTerminated: the child was asked to stop, by Terminate or SIGTERM.
	ErrTerminated = errors.New("mp: terminated")
	// ErrParentDied: the child's parent died, and its lifeline closed.
	ErrParentDied = errors.New("mp: the parent process died")
)

// ExitError is the error Join returns for a child that did not exit with
// code 0. It brings home what Python leaves in the child's stderr (and the
// child prints there too, unless Process.Quiet): the error the target
// returned, or the panic value and the stack of the panicking goroutine.
type ExitError struct {
	Name string // the child's Name
	PID  int    // the child's process ID
	Code int    // the exit code, as ExitCode reports it

	// Err is the text of the error the target returned, or of the reason the
	// child could not run its target; ErrType is its Go type as %T prints it.
	Err, ErrType string

	// Panic is the panic value of a panicking target, as %v prints it, and
	// Stack the stack of the goroutine that panicked, starting in the child's
	// recover; both empty if the target did not panic.
	Panic, Stack string

	// Output is what the Go runtime printed as the child died of a fatal
	// error (an unrecovered panic in another goroutine, a concurrent map
	// write, running out of memory), as set up with debug.SetCrashOutput.
	Output string

	cause error // ErrMainGuard or ErrInvalidTarget, for errors.Is
	guard bool  // the child reached Start before mp.Main
}

func (e *ExitError) Error() string {
	who := fmt.Sprintf("mp: %s (pid %d)", e.Name, e.PID)
	switch {
	case e.cause == ErrMainGuard && e.guard:
		return fmt.Sprintf("%s did not run its target: it tried to start a process before calling mp.Main, "+
			"and was refused (see mp.ErrMainGuard); then it exited by itself with code %d", who, e.Code)
	case e.cause == ErrMainGuard:
		return fmt.Sprintf("%s did not run its target: it exited by itself with code %d without reaching mp.Main "+
			"(see mp.ErrMainGuard)", who, e.Code)
	case e.Panic != "":
		return fmt.Sprintf("%s panicked: %s", who, e.Panic)
	case e.Err != "" && e.Code < 0:
		// Terminated with a grace period, in which the target returned.
		return fmt.Sprintf("%s was ended by signal %d (exit code %d) once its target had returned: %s", who, -e.Code, e.Code, e.Err)
	case e.Err != "":
		return fmt.Sprintf("%s exited with code %d: %s", who, e.Code, e.Err)
	case e.Code < 0:
		return fmt.Sprintf("%s was killed by signal %d (exit code %d)", who, -e.Code, e.Code)
	case e.Output != "":
		line, _, _ := strings.Cut(strings.TrimSpace(e.Output), "\n")
		return fmt.Sprintf("%s crashed with exit code %d: %s", who, e.Code, line)
	}
	return fmt.Sprintf("%s exited with code %d", who, e.Code)
}

// Unwrap returns ErrMainGuard for a child that reached Start, or exited,
// before mp.Main, and ErrInvalidTarget for a child that could not find its
// target; otherwise nil.
func (e *ExitError) Unwrap() error { return e.cause }

// exitError builds Join's error from the exit code and what the child wrote
// on its report pipe (see bootstrap.ParseReport); nil for a clean exit.
func exitError(name string, pid, code int, started bool, rep *bootstrap.Report, crash string) error {
	e := &ExitError{Name: name, PID: pid, Code: code, Output: crash}
	if rep != nil {
		e.Err, e.ErrType, e.Panic, e.Stack = rep.Err, rep.ErrType, rep.Panic, rep.Stack
		switch {
		case rep.Guard:
			e.cause, e.guard = ErrMainGuard, true
		case rep.Boot && strings.Contains(rep.Err, ErrInvalidTarget.Error()):
			e.cause = ErrInvalidTarget
		}
	}
	if !started && rep == nil && code >= 0 && crash == "" {
		// It ran, and exited by itself, without ever reaching its target.
		e.cause = ErrMainGuard
		e.Err = "the child exited without running its target: mp.Main was not reached"
	}
	if e.Code == 0 && e.cause == nil {
		return nil
	}
	return e
}
