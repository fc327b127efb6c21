package managers

import (
	"errors"
	"fmt"

	"github.com/go-mp/mp"
)

// Errors of managers and proxies, compared with errors.Is. Errors of
// queues served by a manager wrap mp's own (mp.ErrEmpty, mp.ErrFull,
// mp.ErrTaskDone); a value that cannot be encoded or decoded wraps
// mp.ErrBadMessage, and a refused key mp.ErrAuth.
var (
	// ErrManagerGone: the manager's server cannot be reached, or went away
	// during a call (it was shut down, or its process died, or the
	// connection broke). A call in flight when the server dies returns it
	// as soon as the connection ends.
	ErrManagerGone = errors.New("mp: the manager is gone")
	// ErrClosed: use of a Manager after its Close or Shutdown, or of a
	// proxy after its Close.
	ErrClosed = errors.New("mp: manager or proxy is closed")
	// ErrObjectGone: a proxy whose object the manager no longer has:
	// every process that held a proxy to it closed it or ended (see
	// "Lifetime" in the package documentation), or the manager was
	// restarted.
	ErrObjectGone = errors.New("mp: the manager no longer has this object")
	// ErrKeyNotFound: Get, Pop or Delete of a key a Dict lacks (Python's
	// KeyError), or Get or Delete of a Namespace attribute that is not
	// set (Python's AttributeError).
	ErrKeyNotFound = errors.New("mp: key not found")
	// ErrIndex: an index outside a List, or Pop of an empty List
	// (Python's IndexError); Index or Remove of a value the List lacks
	// (Python's ValueError).
	ErrIndex = errors.New("mp: list index out of range")
	// ErrNotRegistered: a type id, or a function given to Dict.Modify,
	// that the manager's process has not registered (Register,
	// RegisterFunc); or a proxy of another kind than the object it names.
	ErrNotRegistered = errors.New("mp: not registered with the manager")
	// ErrNotExposed: a call of a method that the object's type does not
	// have, or that Register's Exposed option leaves out.
	ErrNotExposed = errors.New("mp: method not exposed")
	// ErrNotNumber: Add on a value that is not a number.
	ErrNotNumber = errors.New("mp: not a number")
	// The lock and barrier errors are mp's own, so that errors.Is finds
	// the same sentinel whether a lock is mp's or a manager's.

	// ErrOwnerDead: the process that held a Lock or RLock ended holding
	// it, and the caller now holds it in its place (the acquire
	// succeeded). Whatever the holder was doing under the lock was cut
	// short. Python's manager would leave such a lock locked for ever.
	ErrOwnerDead = mp.ErrOwnerDead
	// ErrNotOwner: Release of an RLock, or Wait or Notify of a Condition,
	// by a goroutine that does not hold it (Python's RuntimeError).
	ErrNotOwner = mp.ErrNotOwner
	// ErrTooManyReleases: Release of a Lock that is not locked, or of a
	// BoundedSemaphore at its initial value (Python's RuntimeError and
	// ValueError).
	ErrTooManyReleases = mp.ErrTooManyReleases
	// ErrBrokenBarrier: a Barrier wait that found the barrier broken, or
	// was ended by its breaking: Abort, Reset, a party's timeout, or a
	// party's process ending while it waited (Python's
	// BrokenBarrierError).
	ErrBrokenBarrier = mp.ErrBrokenBarrier
	// ErrNotOwnerManager: Shutdown of a Manager that ConnectManager
	// returned, or that a child received: only the Manager NewManager
	// returned may shut its server down.
	ErrNotOwnerManager = errors.New("mp: only the process that started a manager can shut it down")
)

// RemoteError is the error of a method of a registered type that
// returned an error or panicked in the manager's process: Python's
// RemoteError, and the exception a proxy re-raises. Err and ErrType are
// the error's text and Go type; Panic and Stack are the panic value and
// the stack of the goroutine that panicked, in the manager's process.
//
// If the method's error is of a type registered with mp.RegisterType in
// both processes, Unwrap returns it decoded, so that errors.As finds it;
// otherwise Unwrap returns nil.
type RemoteError struct {
	TypeID  string // the type id the object was registered with
	Method  string // the method called
	Err     string // the error's text, if the method returned an error
	ErrType string // its Go type, as %T prints it
	Panic   string // the panic value, as %v prints it, if it panicked
	Stack   string // the stack of the goroutine that panicked

	cause error
}

// Error names the type id and method, and says what the method returned,
// or that it panicked and with what.
func (e *RemoteError) Error() string {
	if e.Panic != "" {
		return fmt.Sprintf("mp: %s.%s panicked in the manager: %s", e.TypeID, e.Method, e.Panic)
	}
	return fmt.Sprintf("mp: %s.%s: %s", e.TypeID, e.Method, e.Err)
}

// Unwrap returns the method's error, decoded, if its type is registered
// with mp.RegisterType; otherwise nil.
func (e *RemoteError) Unwrap() error { return e.cause }
