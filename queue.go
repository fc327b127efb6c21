package mp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-mp/mp/internal/bootstrap"
	"github.com/go-mp/mp/internal/handles"
	"github.com/go-mp/mp/internal/ring"
	"github.com/go-mp/mp/internal/wire"
)

// MaxQueueSize is the largest maxsize a bounded queue may have: Python's
// SEM_VALUE_MAX on Linux (INT_MAX).
const MaxQueueSize = ring.MaxMaxsize

// Queue is a first-in, first-out queue shared by processes, like Python's
// multiprocessing.Queue: any number of goroutines in any number of
// processes put and get, and each item goes to exactly one Get. Items put
// by one goroutine come out in the order they were put, wherever they are
// got.
//
// A Queue is given to a child as an argument of a Process, or a field of a
// Runner, under either start method, and can be passed on from there.
//
// The items live in shared memory: a ring of 1 MiB that every process
// holding the queue maps, guarded by a lock that a process killed while
// holding it does not keep (see package doc, # Pipes and queues). An item
// is encoded as Put is called; as in Python, Put returns at once: an
// item that does not fit in the ring waits in this process's backlog, which
// a goroutine (the feeder) writes as room appears. A child process lets
// its feeders finish when its target returns, and hands what no one reads
// to its parent; a Go program that is not a child calls Close to wait for
// its feeders.
//
// The zero Queue is not usable: create queues with NewQueue.
type Queue struct {
	r      *ring.Queue
	pass   *handles.Set // the ring's segment, as it crosses into a child
	max    int          // largest item, encoded
	simple bool
}

// JoinableQueue is a Queue whose consumers say when they have finished
// with each item, like Python's multiprocessing.JoinableQueue: Join waits
// until TaskDone has been called once for every item ever put.
//
// A consumer that dies with items it got and did not mark done does not
// make Join wait for ever: once its death is noticed they count as done;
// items that a dying producer had not yet written count as lost, and are
// not waited for either. TaskDone should be called by the process that got
// the item: a process's count of items got and not done is what is given
// back when it dies.
type JoinableQueue struct {
	Queue
}

// SimpleQueue is a Queue without the feeder, like Python's
// multiprocessing.SimpleQueue: Put writes to the ring itself, and blocks
// while it is full. It is unbounded.
type SimpleQueue struct {
	q Queue
}

// NewQueue returns a queue that holds at most maxsize items; a maxsize of
// zero or less means no limit (Python's default). maxsize may not exceed
// MaxQueueSize.
func NewQueue(maxsize int) (*Queue, error) {
	q := &Queue{}
	if err := q.init(maxsize, false, false); err != nil {
		return nil, err
	}
	return q, nil
}

// NewJoinableQueue returns a JoinableQueue; maxsize is as for NewQueue.
func NewJoinableQueue(maxsize int) (*JoinableQueue, error) {
	q := &JoinableQueue{}
	if err := q.init(maxsize, true, false); err != nil {
		return nil, err
	}
	return q, nil
}

// NewSimpleQueue returns a SimpleQueue.
func NewSimpleQueue() (*SimpleQueue, error) {
	q := &SimpleQueue{}
	if err := q.q.init(0, false, true); err != nil {
		return nil, err
	}
	return q, nil
}

func (q *Queue) init(maxsize int, joinable, simple bool) error {
	if maxsize > MaxQueueSize {
		return fmt.Errorf("mp: queue maxsize %d exceeds MaxQueueSize (%d)", maxsize, MaxQueueSize)
	}
	r, err := ring.New(ring.Options{Maxsize: max(maxsize, 0), Joinable: joinable, MaxMessage: DefaultMaxMessage})
	if err != nil {
		return fmt.Errorf("mp: creating a queue: %w", err)
	}
	f, _ := r.File()
	q.r, q.pass, q.max, q.simple = r, handles.New(f), DefaultMaxMessage, simple
	return nil
}

// ring returns q's ring, or an error for the zero Queue.
func (q *Queue) ring() (*ring.Queue, error) {
	if q.r == nil {
		return nil, fmt.Errorf("%w: use NewQueue", ErrQueueClosed)
	}
	return q.r, nil
}

// Put puts v at the tail of the queue, waiting while a bounded queue is
// full. v is encoded (see "Values" in the package documentation) before
// Put returns: a value that cannot be encoded is an error here, not in the
// feeder. v may be nil: Get then sets its variable to the zero value.
func (q *Queue) Put(v any) error { return q.put(v, time.Time{}) }

// PutTimeout is Put waiting at most timeout for room; then it returns
// ErrFull. A timeout of zero or less does not wait for room. (Timed and
// no-wait calls wait up to 10 ms past their timeout for the queue's lock,
// which a process holds for a copy and a commit: they fail because the
// queue is full or empty, not because another process was using it.)
func (q *Queue) PutTimeout(v any, timeout time.Duration) error {
	return q.put(v, time.Now().Add(max(timeout, 0)))
}

// PutNoWait is Put that fails with ErrFull at once if the queue is full.
func (q *Queue) PutNoWait(v any) error { return q.put(v, time.Now()) }

func (q *Queue) put(v any, deadline time.Time) error {
	r, err := q.ring()
	if err != nil {
		return err
	}
	b, err := wire.Encode(nil, v)
	if err != nil {
		return err
	}
	if len(b) > q.max {
		return fmt.Errorf("%w: %d bytes exceed the maximum of %d", ErrMessageTooLarge, len(b), q.max)
	}
	if q.simple {
		return queueError(r.PutWait(context.Background(), b))
	}
	return queueError(r.Put(context.Background(), b, deadline))
}

// Get removes the item at the head of the queue and decodes it into v, a
// non-nil pointer, waiting for one if the queue is empty.
func (q *Queue) Get(v any) error { return q.get(v, time.Time{}) }

// GetTimeout is Get waiting at most timeout for an item; then it returns
// ErrEmpty. A timeout of zero or less does not wait.
//
// An item larger than a quarter of the ring streams through it while it is
// got; if the timeout ends in the middle of one, this process keeps what
// it has read and its next Get continues it (Gets of other processes wait
// for it meanwhile).
func (q *Queue) GetTimeout(v any, timeout time.Duration) error {
	return q.get(v, time.Now().Add(max(timeout, 0)))
}

// GetNoWait is Get that fails with ErrEmpty at once if no item is waiting.
func (q *Queue) GetNoWait(v any) error { return q.get(v, time.Now()) }

func (q *Queue) get(v any, deadline time.Time) error {
	if err := checkPointer(v); err != nil {
		return err
	}
	r, err := q.ring()
	if err != nil {
		return err
	}
	b, err := r.Get(context.Background(), deadline)
	if err != nil {
		return queueError(err)
	}
	return wire.Decode(b, v)
}

// queueError maps the ring's errors to this package's.
func queueError(err error) error {
	if errors.Is(err, ring.ErrCorrupt) {
		return fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	return err
}

// Qsize returns the number of items in the queue: put (and not yet got)
// by any process, including those still in a live process's feeder.
// Other processes may change it at any moment.
func (q *Queue) Qsize() int {
	if q.r == nil {
		return 0
	}
	n, _ := q.r.Qsize()
	return n
}

// Empty reports whether the queue holds no item (see Qsize).
func (q *Queue) Empty() bool { return q.Qsize() <= 0 }

// Full reports whether a bounded queue holds maxsize items (see Qsize).
func (q *Queue) Full() bool {
	return q.r != nil && q.r.Maxsize() > 0 && q.Qsize() >= q.r.Maxsize()
}

// Close says that this process will put and get no more. It stops Puts at
// once, waits until the feeder has written what this process put (Gets
// of this process go on meanwhile), then ends Gets and Puts waiting in
// other goroutines and unmaps the queue's memory in this process. Other
// processes keep using the queue. Later calls return ErrQueueClosed;
// closing twice is harmless. A queue that is dropped without Close is
// unmapped once it is garbage collected.
//
// Like Python's close followed by join_thread, Close waits while the ring
// is full and no one gets: close a queue once its items are consumed, or
// while its consumers run. An item this process had begun to get, and left
// unfinished when a GetTimeout ran out, is lost.
func (q *Queue) Close() error {
	if q.r == nil {
		return nil
	}
	return q.r.Close()
}

// TaskDone says that an item got from the queue has been dealt with. It
// returns ErrTaskDone if called more times than items were put.
func (q *JoinableQueue) TaskDone() error {
	r, err := q.ring()
	if err != nil {
		return err
	}
	return r.TaskDone()
}

// Join waits until every item put on the queue, by any process, has been
// got and TaskDone called for it, or is known lost (see JoinableQueue).
func (q *JoinableQueue) Join() error {
	r, err := q.ring()
	if err != nil {
		return err
	}
	return r.Join(context.Background(), time.Time{})
}

// Put puts v on the queue; see Queue.Put.
func (q *SimpleQueue) Put(v any) error { return q.q.Put(v) }

// Get gets an item from the queue, waiting for one; see Queue.Get.
func (q *SimpleQueue) Get(v any) error { return q.q.Get(v) }

// Empty reports whether the queue holds no item.
func (q *SimpleQueue) Empty() bool { return q.q.Empty() }

// Close releases this process's hold on the queue; see Queue.Close.
func (q *SimpleQueue) Close() error { return q.q.Close() }

// MarshalBinary lets Start carry q into a child; see Queue.MarshalBinary.
func (q *SimpleQueue) MarshalBinary() ([]byte, error) { return q.q.MarshalBinary() }

// UnmarshalBinary is MarshalBinary's inverse, in the child.
func (q *SimpleQueue) UnmarshalBinary(b []byte) error { return q.q.UnmarshalBinary(b) }

// passSet returns q's segment, for Start to pass to a child.
func (q *Queue) passSet() (*handles.Set, error) {
	r, err := q.ring()
	if err != nil {
		return nil, err
	}
	if ring.Lookup(r.ID()) != r {
		return nil, ErrQueueClosed
	}
	return q.pass, nil
}

func (q *SimpleQueue) passSet() (*handles.Set, error) { return q.q.passSet() }

// MarshalBinary encodes q's identity, so that Start can carry q into a
// child (see "Pipes and queues" in the package documentation): what
// crosses is the queue's identities, a few numbers and its shared memory
// segment, as an inherited file. The encoding decodes only in a process
// that holds q's segment.
func (q *Queue) MarshalBinary() ([]byte, error) {
	s, err := q.passSet()
	if err != nil {
		return nil, err
	}
	_, size := q.r.File()
	id := q.r.ID()
	w := &wire.Writer{}
	w.Byte(3)
	w.Raw(s.ID[:])
	w.Raw(id[:])
	flags := uint64(0)
	if q.simple {
		flags |= 2
	}
	w.Uint(flags)
	w.Uint(uint64(q.max))
	w.Uint(uint64(size))
	return w.B, nil
}

// UnmarshalBinary is MarshalBinary's inverse. It fails with
// ErrNotPassable in a process that does not hold q's segment. A queue that
// arrives twice in one process is one queue there.
func (q *Queue) UnmarshalBinary(b []byte) error {
	d := wire.NewReader(b)
	if d.Byte() != 3 {
		return fmt.Errorf("%w: not an encoded Queue", ErrBadMessage)
	}
	var setID, id [16]byte
	copy(setID[:], d.Raw(16))
	copy(id[:], d.Raw(16))
	flags := d.Uint()
	maxMsg := d.Uint()
	size := d.Uint()
	if err := d.End(); err != nil {
		return err
	}
	if maxMsg == 0 || maxMsg > 1<<32-1 || size > 1<<31 || flags&^2 != 0 {
		return fmt.Errorf("%w: bad Queue", ErrBadMessage)
	}
	s, err := heldSet(setID, 1, "Queue")
	if err != nil {
		return err
	}
	r, err := ring.Attach(id, s.Files[0], int(size), int(maxMsg))
	if err != nil {
		return fmt.Errorf("mp: attaching a queue: %w", err)
	}
	q.r, q.pass, q.max, q.simple = r, s, int(maxMsg), flags&2 != 0
	return nil
}

// maxSpill bounds what an exiting child hands over in its report: the
// report is one bootstrap frame.
const maxSpill = bootstrap.MaxFrame - 16<<20

// flushQueues runs as a child exits, after its own children have been
// joined: the feeders write what readers take, and what is left is handed
// to the parent in the report (see ring.Flush). It returns the spills and
// how many items could not be handed over.
func flushQueues() ([]bootstrap.Spill, int) {
	rs, lost := ring.Flush(maxSpill)
	spills := make([]bootstrap.Spill, len(rs))
	for i, sp := range rs {
		spills[i] = bootstrap.Spill{Queue: sp.Queue[:], Frames: sp.Frames}
	}
	return spills, lost
}

// adoptSpills puts on their queues the items that a child handed over as
// it exited, and returns how many were lost: those the child lost, and
// those for queues this process does not hold (a child passes the latter up
// in its own report instead).
func adoptSpills(rep *bootstrap.Report) int {
	c, _ := detectChild()
	child := c != nil
	spills := make([]ring.Spill, 0, len(rep.Spills))
	for _, sp := range rep.Spills {
		if len(sp.Queue) == 16 {
			spills = append(spills, ring.Spill{Queue: [16]byte(sp.Queue), Frames: sp.Frames})
		}
	}
	lost := ring.Adopt(spills, child)
	if child && rep.Lost > 0 {
		ring.ForwardLost(rep.Lost)
	}
	return lost + rep.Lost
}
