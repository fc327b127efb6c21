package mp

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-mp/mp/internal/bootstrap"
	"github.com/go-mp/mp/internal/ring"
	"github.com/go-mp/mp/internal/shm"
	"github.com/go-mp/mp/internal/wire"
)

// Every sentinel error of package mp is declared in this file; each is
// compared with errors.Is, and its message starts with "mp: ".

// Errors for misuse of a Process, compared with errors.Is.
var (
	// ErrAlreadyStarted: Start was called on a process that was started.
	ErrAlreadyStarted = errors.New("mp: process already started")
	// ErrNotStarted: Join, Terminate, Kill or Status before Start.
	ErrNotStarted = errors.New("mp: process not started")
	// ErrStillRunning: Close of a live process, or a join that timed out.
	ErrStillRunning = errors.New("mp: process is still running")
	// ErrClosed: any use of a process after Close.
	ErrClosed = errors.New("mp: process is closed")
	// ErrNotChild: Join, Terminate or Kill of a process that is not a child
	// of this one, such as CurrentProcess() or ParentProcess().
	ErrNotChild = errors.New("mp: can only join, terminate or kill a child process")
	// ErrDaemonic: a daemon process called Start. As in Python, daemon
	// processes may not have children: they are terminated when their parent
	// ends, and would leave their own children behind.
	ErrDaemonic = errors.New("mp: daemon processes are not allowed to have children")
	// ErrMainGuard: a child process reached Start before mp.Main, or exited
	// without reaching it. See the package documentation, "The main guard".
	ErrMainGuard = errors.New("mp: an attempt has been made to start a new process before the current process " +
		"has finished its bootstrapping phase: call mp.Main(targets...) as the first statement of main " +
		"(and of TestMain in tests), before any code that starts processes")
	// ErrInvalidStartMethod: an unknown StartMethod.
	ErrInvalidStartMethod = errors.New("mp: invalid start method")
)

// ErrInvalidTarget reports a target that cannot run in a child: a closure,
// a method value, an instantiation of a generic function, a function with
// results other than one error (or, for a Pool, a result and an error), a
// value that is neither a function nor a
// Runner, or one that was not registered.
var ErrInvalidTarget = errors.New("mp: invalid target")

// ErrArgs reports arguments that do not fit the target.
var ErrArgs = errors.New("mp: bad arguments")

// Errors of connections and queues, compared with errors.Is.
var (
	// ErrConnClosed: use of a Conn after its Close.
	ErrConnClosed = errors.New("mp: connection is closed")
	// ErrWrongEnd: Send on the receiving end of a one-way pipe, or Recv
	// or Poll on its sending end.
	ErrWrongEnd = errors.New("mp: wrong end of a one-way pipe")
	// ErrMessageTooLarge: a message over the configured maximum, sent or
	// announced by a frame's length. A Conn that received such a frame is
	// out of step with its peer: later receives return the same error.
	ErrMessageTooLarge = wire.ErrMessageTooLarge
	// ErrBadMessage: a message that cannot be decoded (a truncated frame,
	// garbage, a value of the wrong type, one whose decoding would
	// allocate more than 48 times its size), or a value that cannot be
	// encoded (an unexported field, a channel, nesting deeper than
	// MaxDepth, a named type inside an interface that is not registered).
	ErrBadMessage = wire.ErrBadMessage
	// ErrBufferTooShort: RecvBytesInto got a message longer than its
	// buffer; the error is a *BufferTooShortError, which holds the
	// message.
	ErrBufferTooShort = errors.New("mp: buffer too short")
	// ErrFull: a Put that could not add its item in time to a full queue.
	ErrFull = ring.ErrFull
	// ErrEmpty: a Get that found no item in time.
	ErrEmpty = ring.ErrEmpty
	// ErrQueueClosed: use of a Queue after its Close.
	ErrQueueClosed = ring.ErrClosed
	// ErrTaskDone: TaskDone called more times than items were put.
	ErrTaskDone = ring.ErrTaskDone
	// ErrItemsLost: Join's error (joined with the child's own, if any)
	// when queue items that a child put, and handed over as it exited
	// because no one read them, reached no process that holds the queue
	// (every ancestor had closed or dropped it).
	ErrItemsLost = errors.New("mp: queue items lost")
	// ErrNotPassable: a Conn or Queue decoded in a process that does not
	// hold its files (it was sent, not passed by Start), or a connection
	// that cannot cross into a child (one from NewConn, as package
	// connection's Listener and Client make them).
	ErrNotPassable = errors.New("mp: cannot pass this to another process")
	// ErrAuth: a connection whose peer failed the authentication
	// challenge, or refused ours.
	ErrAuth = errors.New("mp: authentication failed")
)

// BufferTooShortError is RecvBytesInto's error for a message longer than
// its buffer: Python's BufferTooShort, which carries the message, so that
// nothing is lost. errors.Is(err, ErrBufferTooShort) holds for it.
type BufferTooShortError struct {
	Message []byte // the message, whole
	Buffer  int    // the length of the buffer it did not fit in
}

// Error says how long the message was and how short the buffer.
func (e *BufferTooShortError) Error() string {
	return fmt.Sprintf("%v: a message of %d bytes for a buffer of %d", ErrBufferTooShort, len(e.Message), e.Buffer)
}

// Unwrap returns ErrBufferTooShort.
func (e *BufferTooShortError) Unwrap() error { return ErrBufferTooShort }

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
	Code int    // the exit code, as ExitCode reports it; 1 for a Pool task that failed and left its worker alive

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
	task  bool  // a Pool task's failure: the worker lives on
}

// Error says which child failed and how: its error, its panic, or its
// exit code or signal.
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
	case e.Err != "" && e.task:
		return fmt.Sprintf("%s: the task returned an error: %s", who, e.Err)
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

// Errors of locks, semaphores, events, conditions and barriers, compared
// with errors.Is.
var (
	// ErrOwnerDead: the process that held a Lock or RLock, or a unit of a
	// Semaphore, died holding it, and the caller now holds it in its place
	// (the acquire succeeded). Whatever the holder was doing under the
	// lock was cut short: bring the state it protects back to consistency.
	// It is the counterpart of a robust mutex's EOWNERDEAD and of Windows'
	// WAIT_ABANDONED; Python's primitives would wait for ever instead.
	ErrOwnerDead = errors.New("mp: the previous holder died holding it")
	// ErrNotOwner: Release of a Lock that another process holds, of an
	// RLock that another goroutine holds, or Wait or Notify of a
	// Condition whose lock the caller does not hold (Python's
	// AssertionError and RuntimeError).
	ErrNotOwner = errors.New("mp: the lock is not held by the caller")
	// ErrTooManyReleases: Release of a Lock or RLock that no one holds,
	// or of a BoundedSemaphore already at its initial value (Python's
	// ValueError).
	ErrTooManyReleases = errors.New("mp: lock or semaphore released too many times")
	// ErrBrokenBarrier: a Barrier wait that found the barrier broken, or
	// was ended by its breaking: Abort, Reset, a party's timeout, or a
	// party's death (Python's BrokenBarrierError).
	ErrBrokenBarrier = errors.New("mp: barrier is broken")
	// ErrSyncClosed: use of a Lock, RLock, Semaphore, Event, Condition or
	// Barrier after its Close in this process.
	ErrSyncClosed = errors.New("mp: synchronisation object is closed")
	// ErrTooManyProcesses: more live processes than a Semaphore,
	// Condition or Barrier keeps records for (1024) hold units of it or
	// wait on it at once.
	ErrTooManyProcesses = errors.New("mp: too many processes use this object")
)

// Errors of shared memory, compared with errors.Is. NewSharedMemory and
// OpenSharedMemory also return errors that wrap fs.ErrExist (the name is
// taken) and fs.ErrNotExist (no segment has the name).
var (
	// ErrBadSize: a SharedMemory of zero bytes or fewer, or an Array of
	// fewer than zero elements, or either of more than 1 TiB (Python's
	// ValueError).
	ErrBadSize = errors.New("mp: bad shared memory size")
	// ErrBadName: a SharedMemory name that cannot be one: empty, with a
	// slash after its first byte or a NUL, longer than 255 bytes, or
	// starting with ".mp-", which mp keeps for itself.
	ErrBadName = shm.ErrBadName
)

// Errors of a Pool, compared with errors.Is.
var (
	// ErrPoolClosed: a call on a Pool after Close or Terminate.
	ErrPoolClosed = errors.New("mp: pool is closed")
	// ErrPoolRunning: Join of a Pool that was neither closed nor
	// terminated, which would wait for ever (Python's "Pool is still
	// running").
	ErrPoolRunning = errors.New("mp: pool is still running: call Close or Terminate before Join")
	// ErrPoolTerminated: the error of a task that Terminate stopped or
	// never let start.
	ErrPoolTerminated = errors.New("mp: pool was terminated")
	// ErrPoolBroken: a worker's initializer failed, so the pool can run
	// nothing; it wraps the worker's *ExitError.
	ErrPoolBroken = errors.New("mp: pool is broken: a worker's initializer failed")
	// ErrTaskTimeout: a task that ran longer than the pool's task timeout;
	// its worker was killed and replaced.
	ErrTaskTimeout = errors.New("mp: task timed out")
	// ErrNotReady: an AsyncResult's GetTimeout that found no result in
	// time (Python's multiprocessing.TimeoutError).
	ErrNotReady = errors.New("mp: result is not ready")
)

// TaskError is the error of one task of a Pool: the item at Index of the
// call's items (0 for Apply) failed. Err says why:
//
//   - an *ExitError with Code 1 and the error text, or the panic value and
//     stack, when the function returned an error or panicked (the worker
//     lives on);
//   - an *ExitError with the worker's exit code, and its crash output, when
//     the worker died while it held the task (killed, os.Exit, a fatal
//     runtime error); the pool replaces the worker;
//   - an error wrapping ErrTaskTimeout and the killed worker's *ExitError;
//   - an error wrapping ErrBadMessage when the item or the result could
//     not be encoded or decoded;
//   - ErrPoolTerminated, or ErrPoolBroken and the *ExitError of the worker
//     whose initializer failed, for a task that never ran.
//
// errors.As(err, &exitErr) finds the *ExitError through a TaskError.
type TaskError struct {
	Index int   // the item's index in the call's items
	Err   error // why it failed
}

// Error names the item's index and why it failed.
func (e *TaskError) Error() string {
	return fmt.Sprintf("mp: task %d: %s", e.Index, strings.TrimPrefix(e.Err.Error(), "mp: "))
}

// Unwrap returns Err.
func (e *TaskError) Unwrap() error { return e.Err }
