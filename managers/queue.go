package managers

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-mp/mp"
)

// Queue is a proxy of a queue that a manager's server holds: Python's
// manager.Queue(), a queue.Queue in the server, typed. Unlike mp.Queue it
// is reachable from any process that can connect to the manager, on any
// host; each Put and Get is one round trip. A Put to a full queue, or a
// Get from an empty one, waits in the server; a timed one that runs out
// returns an error wrapping mp.ErrFull or mp.ErrEmpty, as mp.Queue's do.
// A process that ends (or a context that ends) while it waits takes
// nothing from the queue: its wait is cancelled in the server.
//
// A Queue is safe for concurrent use and crosses into other processes as
// a Dict does.
type Queue[T any] struct{ r *ref }

// NewQueue creates a queue of at most maxsize items (zero or less: no
// bound) in m's server and returns its proxy.
func NewQueue[T any](m *Manager, maxsize int, opts ...CreateOption) (*Queue[T], error) {
	r, err := create(m, typeQueue, createName(opts), []int64{int64(maxsize)})
	if err != nil {
		return nil, err
	}
	return &Queue[T]{r}, nil
}

// Put puts v on the queue, waiting for room as long as it takes.
func (q *Queue[T]) Put(v T) error { return q.put(context.Background(), v, forever) }

// PutTimeout puts v on the queue, waiting for room at most d (zero or
// less: not at all); then it returns an error wrapping mp.ErrFull.
func (q *Queue[T]) PutTimeout(v T, d time.Duration) error {
	return q.put(context.Background(), v, timeoutArg(d))
}

// PutContext puts v on the queue, waiting for room until ctx ends; it then
// returns ctx's error, and v is not put.
func (q *Queue[T]) PutContext(ctx context.Context, v T) error { return q.put(ctx, v, forever) }

func (q *Queue[T]) put(ctx context.Context, v T, timeout int64) error {
	b, err := encode(v)
	if err != nil {
		return err
	}
	_, err = q.r.callContext(ctx, "put", []int64{timeout}, b)
	return err
}

// Get takes an item from the queue, waiting for one as long as it takes.
func (q *Queue[T]) Get() (T, error) { return q.get(context.Background(), forever) }

// GetTimeout takes an item, waiting at most d (zero or less: not at all);
// then it returns an error wrapping mp.ErrEmpty.
func (q *Queue[T]) GetTimeout(d time.Duration) (T, error) {
	return q.get(context.Background(), timeoutArg(d))
}

// GetContext takes an item, waiting until ctx ends; it then returns ctx's
// error, and takes nothing.
func (q *Queue[T]) GetContext(ctx context.Context) (T, error) { return q.get(ctx, forever) }

func (q *Queue[T]) get(ctx context.Context, timeout int64) (T, error) {
	return callOne[T](ctx, q.r, "get", []int64{timeout})
}

// Qsize returns the number of items in the queue.
func (q *Queue[T]) Qsize() (int, error) {
	n, _, err := q.size()
	return n, err
}

// Empty reports whether the queue has no items.
func (q *Queue[T]) Empty() (bool, error) {
	n, _, err := q.size()
	return n == 0, err
}

// Full reports whether the queue has maxsize items.
func (q *Queue[T]) Full() (bool, error) {
	n, max, err := q.size()
	return max > 0 && n >= max, err
}

func (q *Queue[T]) size() (n, max int, err error) {
	resp, err := q.r.call("qsize", nil)
	if err != nil {
		return 0, 0, err
	}
	if len(resp.ints) != 2 {
		return 0, 0, fmt.Errorf("%w: a bad reply to qsize", mp.ErrBadMessage)
	}
	return int(resp.ints[0]), int(resp.ints[1]), nil
}

// Close lets go of the queue; see Dict.Close.
func (q *Queue[T]) Close() error { return q.r.close() }

// String describes the proxy, as Python's repr of a proxy does.
func (q *Queue[T]) String() string { return q.r.String() }

// MarshalBinary encodes the proxy, so that it crosses into another
// process.
func (q *Queue[T]) MarshalBinary() ([]byte, error) { return q.r.marshal() }

// UnmarshalBinary is MarshalBinary's inverse. A JoinableQueue decodes as
// a Queue too.
func (q *Queue[T]) UnmarshalBinary(b []byte) error {
	r, err := unmarshalRef(b, "")
	if err != nil {
		return err
	}
	if r.typeid != typeQueue && r.typeid != typeJoinableQueue {
		return fmt.Errorf("%w: a proxy of a %s decoded as a Queue", mp.ErrBadMessage, r.typeid)
	}
	q.r = r
	return nil
}

// JoinableQueue is a Queue whose items are counted until TaskDone is
// called for them, so that Join can wait for all to be done: Python's
// manager.JoinableQueue().
type JoinableQueue[T any] struct{ Queue[T] }

// NewJoinableQueue creates a joinable queue of at most maxsize items in
// m's server and returns its proxy.
func NewJoinableQueue[T any](m *Manager, maxsize int, opts ...CreateOption) (*JoinableQueue[T], error) {
	r, err := create(m, typeJoinableQueue, createName(opts), []int64{int64(maxsize)})
	if err != nil {
		return nil, err
	}
	return &JoinableQueue[T]{Queue[T]{r}}, nil
}

// TaskDone says that an item taken from the queue has been dealt with. It
// returns an error wrapping mp.ErrTaskDone if called more times than items
// were put.
func (q *JoinableQueue[T]) TaskDone() error {
	_, err := q.r.call("task_done", nil)
	return err
}

// Join waits until every item put on the queue has been taken and
// TaskDone called for it.
func (q *JoinableQueue[T]) Join() error { return q.JoinContext(context.Background()) }

// JoinContext is Join that gives up when ctx ends, returning its error.
func (q *JoinableQueue[T]) JoinContext(ctx context.Context) error {
	_, err := q.r.callContext(ctx, "join", []int64{forever})
	return err
}

// UnmarshalBinary decodes a JoinableQueue's proxy.
func (q *JoinableQueue[T]) UnmarshalBinary(b []byte) error {
	r, err := unmarshalRef(b, typeJoinableQueue)
	if err != nil {
		return err
	}
	q.r = r
	return nil
}

// queueObject is a queue in the server.
type queueObject struct {
	mu         sync.Mutex
	sig        signal
	items      [][]byte
	head       int // items before it are taken
	maxsize    int
	joinable   bool
	unfinished int
}

func newQueueObject(joinable bool) func(ints []int64, vals [][]byte) (object, error) {
	return func(ints []int64, vals [][]byte) (object, error) {
		if len(ints) != 1 || len(vals) != 0 {
			return nil, badCall(typeQueue, "create")
		}
		return &queueObject{maxsize: int(max(ints[0], 0)), joinable: joinable}, nil
	}
}

func (q *queueObject) len() int { return len(q.items) - q.head }

func (q *queueObject) call(c *call, method string, ints []int64, vals [][]byte) (*response, error) {
	typeid := typeQueue
	if q.joinable {
		typeid = typeJoinableQueue
	}
	if err := checkValues(typeid, method, vals); err != nil {
		return nil, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	switch method {
	case "put":
		if len(ints) != 1 || len(vals) != 1 {
			return nil, badCall(typeid, method)
		}
		ok, err := waitUntil(c, &q.mu, &q.sig, time.Duration(ints[0]), func() bool { return q.maxsize <= 0 || q.len() < q.maxsize })
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: %d items", mp.ErrFull, q.len())
		}
		c.stored(vals[0])
		q.items = append(q.items, keep(vals[0]))
		q.unfinished++
		q.sig.broadcast()
		return &response{}, nil
	case "get":
		if len(ints) != 1 || len(vals) != 0 {
			return nil, badCall(typeid, method)
		}
		ok, err := waitUntil(c, &q.mu, &q.sig, time.Duration(ints[0]), func() bool { return q.len() > 0 })
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, mp.ErrEmpty
		}
		v := q.items[q.head]
		c.returned(v)
		c.dropped(v)
		q.items[q.head] = nil
		q.head++
		if q.head == len(q.items) {
			q.items, q.head = q.items[:0], 0
		} else if q.head > 1024 && q.head > len(q.items)/2 {
			n := copy(q.items, q.items[q.head:])
			clear(q.items[n:])
			q.items, q.head = q.items[:n], 0
		}
		q.sig.broadcast()
		return &response{vals: [][]byte{v}}, nil
	case "qsize":
		return &response{ints: []int64{int64(q.len()), int64(q.maxsize)}}, nil
	case "task_done":
		if !q.joinable {
			break
		}
		if q.unfinished <= 0 {
			return nil, fmt.Errorf("%w", mp.ErrTaskDone)
		}
		q.unfinished--
		if q.unfinished == 0 {
			q.sig.broadcast()
		}
		return &response{}, nil
	case "join":
		if !q.joinable || len(ints) != 1 {
			break
		}
		ok, err := waitUntil(c, &q.mu, &q.sig, time.Duration(ints[0]), func() bool { return q.unfinished == 0 })
		if err != nil {
			return nil, err
		}
		return &response{ints: []int64{boolInt(ok)}}, nil
	}
	return nil, unknownMethod(typeid, method)
}

func (q *queueObject) contents() [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.items[q.head:])
}
