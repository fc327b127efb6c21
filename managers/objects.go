package managers

import (
	"bytes"
	"context"
	"encoding"
	"fmt"
	"sync"
	"time"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/internal/wire"
)

// The built-in types, by their type ids (Python's SyncManager names).
const (
	typeDict             = "dict"
	typeList             = "list"
	typeNamespace        = "Namespace"
	typeQueue            = "Queue"
	typeJoinableQueue    = "JoinableQueue"
	typeLock             = "Lock"
	typeSemaphore        = "Semaphore"
	typeBoundedSemaphore = "BoundedSemaphore"
	typeEvent            = "Event"
	typeBarrier          = "Barrier"
	typeValue            = "Value"
)

// Proxies cross into other processes as values, and a Lock is a
// sync.Locker.
var (
	_ encoding.BinaryMarshaler   = (*Dict[string, int])(nil)
	_ encoding.BinaryUnmarshaler = (*Dict[string, int])(nil)
	_ encoding.BinaryUnmarshaler = (*List[int])(nil)
	_ encoding.BinaryUnmarshaler = (*Namespace)(nil)
	_ encoding.BinaryUnmarshaler = (*Queue[int])(nil)
	_ encoding.BinaryUnmarshaler = (*JoinableQueue[int])(nil)
	_ encoding.BinaryUnmarshaler = (*Lock)(nil)
	_ encoding.BinaryUnmarshaler = (*Semaphore)(nil)
	_ encoding.BinaryUnmarshaler = (*Event)(nil)
	_ encoding.BinaryUnmarshaler = (*Barrier)(nil)
	_ encoding.BinaryUnmarshaler = (*Value[int])(nil)
	_ encoding.BinaryUnmarshaler = (*Proxy)(nil)
	_ encoding.BinaryUnmarshaler = (*Manager)(nil)
	_ sync.Locker                = (*Lock)(nil)
)

// builtins make the built-in types' objects from a create's integers and
// values.
var builtins = map[string]func(ints []int64, vals [][]byte) (object, error){
	typeDict:             newDictObject,
	typeList:             newListObject,
	typeNamespace:        newNamespaceObject,
	typeQueue:            newQueueObject(false),
	typeJoinableQueue:    newQueueObject(true),
	typeLock:             newLockObject,
	typeSemaphore:        newSemaphoreObject(false),
	typeBoundedSemaphore: newSemaphoreObject(true),
	typeEvent:            newEventObject,
	typeBarrier:          newBarrierObject,
	typeValue:            newValueObject,
}

// construct makes an object of typeid: a built-in type's, or a registered
// type's. identity is the key under which the server finds the object if
// a constructor returns it again (see Register); methods are what a
// registered type exposes.
func construct(typeid string, ints []int64, vals [][]byte) (obj object, identity any, methods []string, err error) {
	if f := builtins[typeid]; f != nil {
		obj, err = f(ints, vals)
		return obj, nil, nil, err
	}
	return constructRegistered(typeid, vals)
}

// CreateOption configures the creation of an object.
type CreateOption interface{ applyCreate(*createConfig) }

type createConfig struct{ name string }

type createFunc func(*createConfig)

func (f createFunc) applyCreate(c *createConfig) { f(c) }

// Name makes the constructor return the server's object of that name,
// creating it if there is none: processes that know the name share the
// object, as those of Python's register('get_queue', callable=lambda:
// queue) share its queue. A named object lives as long as the server. The
// other arguments of the constructor (a Queue's maxsize, say) matter only
// when it creates the object; an object of that name of another type is
// an error wrapping ErrNotRegistered.
func Name(name string) CreateOption {
	return createFunc(func(c *createConfig) { c.name = name })
}

func createName(opts []CreateOption) string {
	var c createConfig
	for _, o := range opts {
		o.applyCreate(&c)
	}
	return c.name
}

// badCall is the error of a call with the wrong arguments for method.
func badCall(typeid, method string) error {
	return fmt.Errorf("%w: bad arguments for %s.%s", mp.ErrBadMessage, typeid, method)
}

// unknownMethod is the error of a call of a method a built-in type lacks.
func unknownMethod(typeid, method string) error {
	return errorf(ErrNotExposed, "%s has no method %q", typeid, method)
}

// keep returns v, copied if it shares a much larger buffer (the request
// it came in), so that a stored value keeps only its own bytes.
func keep(v []byte) []byte {
	if cap(v) > 2*len(v)+64 {
		return bytes.Clone(v)
	}
	return v
}

// isValue reports whether v is a value message: a client that stores
// garbage would make every reader fail to decode it.
func isValue(v []byte) bool { return len(v) > 0 && v[0] == wire.Marker }

// checkValues checks that vals are value messages.
func checkValues(typeid, method string, vals [][]byte) error {
	for _, v := range vals {
		if !isValue(v) {
			return fmt.Errorf("%w: %s.%s: not a value message", mp.ErrBadMessage, typeid, method)
		}
	}
	return nil
}

// signal wakes an object's waiters: wait returns a channel that the next
// broadcast closes. The object's mutex guards it.
type signal struct{ ch chan struct{} }

func (s *signal) wait() <-chan struct{} {
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *signal) broadcast() {
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// waitUntil waits, with mu held, until ready reports true, timeout passes
// (negative: never; zero: no waiting) or the call ends, and reports
// whether ready did. A call that ends (its caller went away or cancelled)
// returns an error wrapping context.Canceled.
func waitUntil(c *call, mu *sync.Mutex, sig *signal, timeout time.Duration, ready func() bool) (bool, error) {
	if ready() {
		return true, nil
	}
	if timeout == 0 {
		return false, nil
	}
	ctx := c.context()
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	for {
		ch := sig.wait()
		mu.Unlock()
		select {
		case <-ch:
			mu.Lock()
		case <-expired:
			mu.Lock()
			return ready() && !c.peerGone(), nil
		case <-ctx.Done():
			mu.Lock()
			return false, errCancelled
		}
		if ready() {
			// The caller may have gone while it waited, before the
			// watch saw it: it must not take what it cannot receive.
			if c.peerGone() {
				return false, errCancelled
			}
			return true, nil
		}
	}
}

var errCancelled = fmt.Errorf("mp: the call was cancelled: %w", context.Canceled)

// timeoutArg is how a proxy sends a timeout: negative waits for ever.
func timeoutArg(d time.Duration) int64 { return int64(max(d, 0)) }

// forever is the timeout of a call that waits as long as it takes.
const forever = -1

// encode encodes v for a call, naming what in the error.
func encode(v any) ([]byte, error) { return wire.Encode(nil, v) }

// decodeAs decodes a value message of a reply.
func decodeAs[T any](b []byte) (T, error) {
	var v T
	err := wire.Decode(b, &v)
	return v, err
}

// callOne calls method of r's object and decodes the one value of its
// reply as a T.
func callOne[T any](ctx context.Context, r *ref, method string, ints []int64, vals ...[]byte) (T, error) {
	var zero T
	resp, err := r.callContext(ctx, method, ints, vals...)
	if err != nil {
		return zero, err
	}
	b, err := oneVal(resp)
	if err != nil {
		return zero, err
	}
	return decodeAs[T](b)
}

// encodeKey encodes a key and a value for a call.
func encodeKey[K, V any](key K, v V) ([]byte, []byte, error) {
	k, err := encode(key)
	if err != nil {
		return nil, nil, err
	}
	b, err := encode(v)
	return k, b, err
}

// oneVal checks that a reply carries exactly one value.
func oneVal(resp *response) ([]byte, error) {
	if len(resp.vals) != 1 {
		return nil, fmt.Errorf("%w: a reply with %d values, not 1", mp.ErrBadMessage, len(resp.vals))
	}
	return resp.vals[0], nil
}

// oneInt checks that a reply carries exactly one integer.
func oneInt(resp *response) (int64, error) {
	if len(resp.ints) != 1 {
		return 0, fmt.Errorf("%w: a reply with %d integers, not 1", mp.ErrBadMessage, len(resp.ints))
	}
	return resp.ints[0], nil
}
