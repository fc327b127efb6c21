package mp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
	"weak"

	"github.com/go-mp/mp/internal/bootstrap"
	"github.com/go-mp/mp/internal/handles"
	"github.com/go-mp/mp/internal/wire"
)

// MaxQueueSize is the largest maxsize a bounded queue may have: Python's
// SEM_VALUE_MAX on macOS. A bounded queue keeps one byte per free slot in a
// pipe, which holds 64 KiB on every OS.
const MaxQueueSize = 32767

// Queue is a first-in, first-out queue shared by processes, like Python's
// multiprocessing.Queue: any number of goroutines in any number of
// processes put and get, and each item goes to exactly one Get. Items put
// by one goroutine come out in the order they were put, wherever they are
// got.
//
// A Queue is given to a child as an argument of a Process, or a field of a
// Runner, under either start method, and can be passed on from there.
//
// As in Python, the items are encoded as Put is called and written to a
// pipe by a goroutine of the putting process (the feeder), so Put returns
// at once while the queue has room. A child process waits for its feeders
// when its target returns, before it exits; a Go program that is not a
// child calls Close to do the same.
//
// The zero Queue is not usable: create queues with NewQueue.
type Queue struct {
	id       [16]byte // identifies the queue across processes
	maxsize  int
	max      int
	joinable bool
	simple   bool

	r, w         *os.File   // the data pipe
	rlock, wlock shmLock    // one reader and one writer at a time, across processes
	slots        *tokenPipe // maxsize > 0: a token per free slot
	done         *tokenPipe // joinable: a token when no task is unfinished
	shf          *os.File   // the shared page
	shared       []byte
	pass         *handles.Set // every file above, as they cross into a child

	mu      sync.Mutex
	closing bool           // Close has begun: no more Puts
	closed  bool           // and has flushed: no more Gets
	ops     sync.WaitGroup // Puts and Gets under way, which Close waits for

	feed feeder
}

// JoinableQueue is a Queue whose consumers say when they have finished
// with each item, like Python's multiprocessing.JoinableQueue: Join waits
// until TaskDone has been called once for every item ever put.
type JoinableQueue struct {
	Queue
}

// SimpleQueue is a Queue without the feeder, like Python's
// multiprocessing.SimpleQueue: Put writes to the pipe itself, and blocks
// while the pipe is full. It is unbounded.
type SimpleQueue struct {
	q Queue
}

// Offsets in the shared page.
const (
	offCount      = 0  // items put and not yet got
	offUnfinished = 8  // JoinableQueue: items put and not yet TaskDone
	offRlock      = 16 // the read lock's state
	offWlock      = 24 // the write lock's state
	offCarryLen   = 32 // how many bytes of the next frame's header the last reader read
	offCarry      = 40 // those bytes
)

func (q *Queue) counter(off int) *atomic.Int64 {
	return (*atomic.Int64)(unsafe.Pointer(&q.shared[off]))
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

func (q *Queue) init(maxsize int, joinable, simple bool) (err error) {
	if maxsize > MaxQueueSize {
		return fmt.Errorf("mp: queue maxsize %d exceeds MaxQueueSize (%d)", maxsize, MaxQueueSize)
	}
	q.maxsize, q.max, q.joinable, q.simple = max(maxsize, 0), DefaultMaxMessage, joinable, simple
	var files []*os.File
	defer func() {
		if err != nil {
			for _, f := range files {
				f.Close()
			}
			err = fmt.Errorf("mp: creating a queue: %w", err)
		}
	}()
	pipe := func(tokens int) (*tokenPipe, error) {
		t, err := newTokenPipe(tokens)
		if err == nil {
			files = append(files, t.r, t.w)
		}
		return t, err
	}
	if q.r, q.w, err = newPipe(); err != nil {
		return err
	}
	files = append(files, q.r, q.w)
	var rwait, wwait *tokenPipe
	if rwait, err = pipe(0); err != nil {
		return err
	}
	if wwait, err = pipe(0); err != nil {
		return err
	}
	if q.maxsize > 0 {
		if q.slots, err = pipe(q.maxsize); err != nil {
			return err
		}
	}
	if joinable {
		if q.done, err = pipe(0); err != nil {
			return err
		}
	}
	if q.shf, q.shared, err = newShared(); err != nil {
		return err
	}
	q.rlock, q.wlock = q.newLock(offRlock, rwait), q.newLock(offWlock, wwait)
	q.pass = handles.New(q.files()...)
	q.id = q.pass.ID
	q.setCleanup()
	return nil
}

func (q *Queue) newLock(off int, wait *tokenPipe) shmLock {
	return shmLock{state: q.counter(off), wait: wait}
}

// setCleanup registers q, so that its children's spills find it, and
// unmaps the shared page once q is unreachable: Close cannot, as a
// goroutine may still be reading a counter.
func (q *Queue) setCleanup() {
	runtime.AddCleanup(q, unmapShared, q.shared)
	queues.Lock()
	queues.m[q.id] = weak.Make(q)
	queues.Unlock()
	runtime.AddCleanup(q, forgetQueue, q.id)
}

// queues finds the queues of this process by identity.
var queues = struct {
	sync.Mutex
	m map[[16]byte]weak.Pointer[Queue]
}{m: map[[16]byte]weak.Pointer[Queue]{}}

func forgetQueue(id [16]byte) {
	queues.Lock()
	defer queues.Unlock()
	if wp, ok := queues.m[id]; ok && wp.Value() == nil {
		delete(queues.m, id)
	}
}

func lookupQueue(id []byte) *Queue {
	queues.Lock()
	defer queues.Unlock()
	if len(id) != 16 {
		return nil
	}
	return queues.m[[16]byte(id)].Value()
}

// begin registers a Put (or anything but a Get), or reports that q is
// closed.
func (q *Queue) begin() error { return q.beginOp(true) }

// beginOp registers an operation; a Get (put false) may still run while
// Close waits for the feeder.
func (q *Queue) beginOp(put bool) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || (put && q.closing) {
		return ErrQueueClosed
	}
	if q.r == nil {
		return fmt.Errorf("%w: use NewQueue", ErrQueueClosed)
	}
	q.ops.Add(1)
	return nil
}

// Put puts v at the tail of the queue, waiting while a bounded queue is
// full. v is encoded (see "Values" in the package documentation) before
// Put returns: a value that cannot be encoded is an error here, not in the
// feeder. v may be nil: Get then sets its variable to the zero value.
func (q *Queue) Put(v any) error { return q.put(v, -1) }

// PutTimeout is Put waiting at most timeout for room; then it returns
// ErrFull. A timeout of zero or less does not wait.
func (q *Queue) PutTimeout(v any, timeout time.Duration) error { return q.put(v, max(timeout, 0)) }

// PutNoWait is Put that fails with ErrFull at once if the queue is full.
func (q *Queue) PutNoWait(v any) error { return q.put(v, 0) }

func (q *Queue) put(v any, d time.Duration) error {
	if err := q.begin(); err != nil {
		return err
	}
	defer q.ops.Done()
	b, err := wire.Encode(nil, v)
	if err != nil {
		return err
	}
	if len(b) > q.max {
		return fmt.Errorf("%w: %d bytes exceed the maximum of %d", ErrMessageTooLarge, len(b), q.max)
	}
	if q.slots != nil {
		if err := q.slots.take(d); err != nil {
			if err == errTimeout {
				return ErrFull
			}
			return q.ioError(err)
		}
	}
	q.counter(offCount).Add(1)
	if q.joinable {
		q.counter(offUnfinished).Add(1)
	}
	if q.simple {
		_, err := q.writeFrames(wire.AppendFrame(nil, b))
		return err
	}
	q.feed.put(q, b)
	return nil
}

// Get removes the item at the head of the queue and decodes it into v, a
// non-nil pointer, waiting for one if the queue is empty.
func (q *Queue) Get(v any) error { return q.get(v, -1) }

// GetTimeout is Get waiting at most timeout for an item; then it returns
// ErrEmpty. A timeout of zero or less does not wait.
func (q *Queue) GetTimeout(v any, timeout time.Duration) error { return q.get(v, max(timeout, 0)) }

// GetNoWait is Get that fails with ErrEmpty at once if no item is waiting.
func (q *Queue) GetNoWait(v any) error { return q.get(v, 0) }

func (q *Queue) get(v any, d time.Duration) error {
	if err := checkPointer(v); err != nil {
		return err
	}
	if err := q.beginOp(false); err != nil {
		return err
	}
	defer q.ops.Done()
	b, err := q.receive(d)
	if err != nil {
		return err
	}
	return wire.Decode(b, v)
}

// receive reads one message from the pipe, holding the read lock so that
// a reader in another process cannot take part of it.
//
// A reader reads a frame's payload and, in the same read, as much as
// arrived of the next frame's header, up to its 4 bytes; it leaves those in
// the shared page for the next reader, wherever it runs. So a message
// costs one read, not two.
func (q *Queue) receive(d time.Duration) ([]byte, error) {
	deadline := time.Now().Add(d)
	if err := q.rlock.lock(d); err != nil {
		if err == errTimeout {
			return nil, ErrEmpty
		}
		return nil, q.ioError(err)
	}
	b, err := q.readLocked(d, deadline)
	if uerr := q.rlock.unlock(); err == nil && uerr != nil {
		err = uerr
	}
	switch {
	case err == errTimeout:
		return nil, ErrEmpty
	case errors.Is(err, ErrMessageTooLarge) || errors.Is(err, ErrBadMessage):
		return nil, err
	case err != nil:
		return nil, q.ioError(err)
	}
	q.counter(offCount).Add(-1)
	if q.slots != nil {
		if err := q.slots.give(); err != nil {
			return nil, q.ioError(err)
		}
	}
	return b, nil
}

func (q *Queue) readLocked(d time.Duration, deadline time.Time) ([]byte, error) {
	carry := q.shared[offCarry : offCarry+wire.HeaderSize]
	carryLen := q.counter(offCarryLen)
	var hdr [wire.HeaderSize]byte
	have := int(carryLen.Load())
	if have < 0 || have > wire.HeaderSize {
		return nil, fmt.Errorf("%w: corrupt queue state", ErrBadMessage)
	}
	copy(hdr[:], carry[:have])
	if have == 0 {
		rest := time.Duration(-1)
		if d >= 0 {
			rest = max(time.Until(deadline), 0)
		}
		n, err := readTimeout(q.r, hdr[:], rest)
		if err != nil {
			return nil, err
		}
		have = n
	}
	if have < wire.HeaderSize {
		// The header has begun to arrive; its writer wrote it whole.
		if _, err := io.ReadFull(q.r, hdr[have:]); err != nil {
			return nil, err
		}
	}
	carryLen.Store(0)
	n := wire.Length(hdr[:])
	if n > wire.ReadChunk {
		return wire.ReadPayload(q.r, n, q.max)
	}
	buf := make([]byte, int(n)+wire.HeaderSize)
	got := 0
	for got < int(n) {
		k, err := q.r.Read(buf[got:])
		got += k
		if err != nil {
			if err == io.EOF {
				err = fmt.Errorf("%w: truncated frame", ErrBadMessage)
			}
			return nil, err
		}
	}
	carryLen.Store(int64(copy(carry, buf[n:got])))
	return buf[:n:n], nil
}

func (q *Queue) ioError(err error) error {
	if errors.Is(err, os.ErrClosed) || errors.Is(err, io.EOF) {
		return ErrQueueClosed
	}
	return fmt.Errorf("mp: queue: %w", err)
}

// Qsize returns the number of items in the queue: put (and not yet got)
// by any process, including those still in a feeder. Other processes
// may change it at any moment.
func (q *Queue) Qsize() int {
	if q.shared == nil {
		return 0
	}
	return int(q.counter(offCount).Load())
}

// Empty reports whether the queue holds no item (see Qsize).
func (q *Queue) Empty() bool { return q.Qsize() <= 0 }

// Full reports whether a bounded queue holds maxsize items (see Qsize).
func (q *Queue) Full() bool { return q.maxsize > 0 && q.Qsize() >= q.maxsize }

// Close says that this process will put and get no more. It stops Puts at
// once, waits until the feeder has written what this process put (Gets
// of this process go on meanwhile), then ends Gets and Puts waiting in
// other goroutines, and releases this process's hold on the queue. Other
// processes keep using the queue. Later calls return ErrQueueClosed;
// closing twice is harmless.
//
// Like Python's close followed by join_thread, Close waits while the pipe
// is full and no one gets: close a queue once its items are consumed, or
// while its consumers run.
func (q *Queue) Close() error {
	q.mu.Lock()
	if q.closing || q.r == nil {
		q.mu.Unlock()
		return nil
	}
	q.closing = true
	q.mu.Unlock()
	q.feed.wait()
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	// Closing the read ends ends the reads under way; their writers stay
	// open until every Put and Get has returned its tokens.
	readers := []*os.File{q.r, q.rlock.wait.r, q.wlock.wait.r}
	writers := []*os.File{q.w, q.rlock.wait.w, q.wlock.wait.w, q.shf}
	for _, t := range []*tokenPipe{q.slots, q.done} {
		if t != nil {
			readers, writers = append(readers, t.r), append(writers, t.w)
		}
	}
	for _, f := range readers {
		f.Close()
	}
	q.ops.Wait()
	for _, f := range writers {
		f.Close()
	}
	return nil
}

// TaskDone says that an item got from the queue has been dealt with. It
// returns ErrTaskDone if called more times than items were put.
func (q *JoinableQueue) TaskDone() error {
	if err := q.begin(); err != nil {
		return err
	}
	defer q.ops.Done()
	c := q.counter(offUnfinished)
	for {
		n := c.Load()
		if n <= 0 {
			return ErrTaskDone
		}
		if c.CompareAndSwap(n, n-1) {
			if n == 1 {
				// Wake the joiners; one token is enough.
				if avail, err := pipeAvail(q.done.r); err == nil && avail == 0 {
					return q.done.give()
				}
			}
			return nil
		}
	}
}

// Join waits until every item put on the queue, by any process, has been
// got and TaskDone called for it.
func (q *JoinableQueue) Join() error {
	if err := q.begin(); err != nil {
		return err
	}
	defer q.ops.Done()
	c := q.counter(offUnfinished)
	for c.Load() > 0 {
		// A token means the count reached zero since it was written; it
		// may have risen again, so look, and leave the token for the
		// other joiners.
		if err := q.done.take(-1); err != nil {
			return q.ioError(err)
		}
		if c.Load() <= 0 {
			return q.done.give()
		}
	}
	return nil
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

// files returns the files of q, in the order its Set holds them.
func (q *Queue) files() []*os.File {
	files := []*os.File{q.r, q.w, q.rlock.wait.r, q.rlock.wait.w, q.wlock.wait.r, q.wlock.wait.w}
	if q.slots != nil {
		files = append(files, q.slots.r, q.slots.w)
	}
	if q.done != nil {
		files = append(files, q.done.r, q.done.w)
	}
	return append(files, q.shf)
}

// passSet returns q's files, for Start to pass to a child.
func (q *Queue) passSet() (*handles.Set, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closing || q.r == nil {
		return nil, ErrQueueClosed
	}
	return q.pass, nil
}

func (q *SimpleQueue) passSet() (*handles.Set, error) { return q.q.passSet() }

// MarshalBinary encodes q's identity, so that Start can carry q into a
// child (see "Pipes and queues" in the package documentation). The
// encoding decodes only in a process that holds q's files.
func (q *Queue) MarshalBinary() ([]byte, error) {
	if _, err := q.passSet(); err != nil {
		return nil, err
	}
	w := &wire.Writer{}
	w.Byte(2)
	w.Raw(q.id[:])
	flags := uint64(0)
	if q.joinable {
		flags |= 1
	}
	if q.simple {
		flags |= 2
	}
	w.Uint(flags)
	w.Uint(uint64(q.maxsize))
	w.Uint(uint64(q.max))
	return w.B, nil
}

// UnmarshalBinary is MarshalBinary's inverse. It fails with
// ErrNotPassable in a process that does not hold q's files.
func (q *Queue) UnmarshalBinary(b []byte) error {
	d := wire.NewReader(b)
	if d.Byte() != 2 {
		return fmt.Errorf("%w: not an encoded Queue", ErrBadMessage)
	}
	var id [16]byte
	copy(id[:], d.Raw(len(id)))
	flags := d.Uint()
	maxsize := d.Uint()
	maxMsg := d.Uint()
	if err := d.End(); err != nil {
		return err
	}
	if maxsize > MaxQueueSize || maxMsg == 0 || maxMsg > 1<<32-1 || flags > 3 {
		return fmt.Errorf("%w: bad Queue", ErrBadMessage)
	}
	n := 7
	if maxsize > 0 {
		n += 2
	}
	if flags&1 != 0 {
		n += 2
	}
	s, err := heldSet(id, n, "Queue")
	if err != nil {
		return err
	}
	files := s.Files
	mem, err := mapShared(files[n-1])
	if err != nil {
		return fmt.Errorf("mp: mapping a queue's shared memory: %w", err)
	}
	q.id, q.pass = id, s
	q.maxsize, q.max, q.joinable, q.simple = int(maxsize), int(maxMsg), flags&1 != 0, flags&2 != 0
	q.r, q.w = files[0], files[1]
	q.shared = mem
	q.rlock = q.newLock(offRlock, inheritedToken(files[2], files[3]))
	q.wlock = q.newLock(offWlock, inheritedToken(files[4], files[5]))
	files = files[6:]
	if maxsize > 0 {
		q.slots, files = inheritedToken(files[0], files[1]), files[2:]
	}
	if flags&1 != 0 {
		q.done = inheritedToken(files[0], files[1])
	}
	q.shf = s.Files[n-1]
	q.setCleanup()
	return nil
}

// shmLock is a lock that processes share: a futex-style state word in the
// shared page (0 free, 1 held, 2 held and maybe wanted), so that taking a
// free lock is one atomic operation, and a token pipe on which those who
// want it wait (U. Drepper, "Futexes Are Tricky", mutex2). A token may
// outlive its waiter (one that timed out): a woken waiter looks again, and
// an unlock writes no token while one is waiting in the pipe, so they never
// fill it.
type shmLock struct {
	state *atomic.Int64
	wait  *tokenPipe
}

// lock takes the lock, waiting at most d (d < 0: for ever); errTimeout if
// it could not.
func (l shmLock) lock(d time.Duration) error {
	if l.state.CompareAndSwap(0, 1) {
		return nil
	}
	deadline := time.Now().Add(d)
	for {
		if l.state.Swap(2) == 0 {
			return nil
		}
		rest := d
		if d > 0 {
			rest = max(time.Until(deadline), 0)
		}
		if err := l.wait.take(rest); err != nil {
			return err
		}
	}
}

func (l shmLock) unlock() error {
	if l.state.Swap(0) != 2 {
		return nil
	}
	if n, err := pipeAvail(l.wait.r); err == nil && n > 0 {
		return nil // a waiter will wake anyway
	}
	return l.wait.give()
}

// tokenPipe is a semaphore that processes share: a pipe holding one byte
// per token. Taking reads a byte; giving writes one back.
type tokenPipe struct {
	r, w  *os.File
	local chan struct{} // serialises this process's takes, which set deadlines
}

func newTokenPipe(tokens int) (*tokenPipe, error) {
	r, w, err := newPipe()
	if err != nil {
		return nil, err
	}
	t := inheritedToken(r, w)
	if tokens > 0 {
		if _, err := w.Write(make([]byte, tokens)); err != nil {
			r.Close()
			w.Close()
			return nil, err
		}
	}
	return t, nil
}

func inheritedToken(r, w *os.File) *tokenPipe {
	return &tokenPipe{r: r, w: w, local: make(chan struct{}, 1)}
}

// take takes a token, waiting at most d (d < 0: for ever); errTimeout if
// none came.
func (t *tokenPipe) take(d time.Duration) error {
	deadline := time.Now().Add(d)
	switch {
	case d < 0:
		t.local <- struct{}{}
	case d == 0:
		select {
		case t.local <- struct{}{}:
		default:
			return errTimeout
		}
	default:
		timer := time.NewTimer(d)
		select {
		case t.local <- struct{}{}:
			timer.Stop()
		case <-timer.C:
			return errTimeout
		}
		d = max(time.Until(deadline), 0)
	}
	defer func() { <-t.local }()
	var b [1]byte
	n, err := readTimeout(t.r, b[:], d)
	if n == 1 {
		return nil
	}
	if err == nil {
		err = io.EOF
	}
	return err
}

func (t *tokenPipe) give() error {
	_, err := t.w.Write([]byte{0})
	return err
}

// feeder writes the frames that Puts of this process leave, in order, from
// a goroutine that runs while there are any.
type feeder struct {
	mu      sync.Mutex
	buf     []byte
	spare   []byte
	running bool
	stuck   bool          // stopped at exit on a full pipe, with buf left
	idle    chan struct{} // closed when the goroutine has stopped
	err     error
}

func (f *feeder) put(q *Queue, b []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buf = wire.AppendFrame(f.buf, b)
	f.start(q)
}

// putFrames adds frames that a child left (see adoptSpills).
func (f *feeder) putFrames(q *Queue, frames []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buf = append(f.buf, frames...)
	f.start(q)
}

// start starts the goroutine unless it runs. f.mu is held.
func (f *feeder) start(q *Queue) {
	if !f.running && !f.stuck {
		f.running = true
		f.idle = make(chan struct{})
		feeding.Lock()
		feeding.wg.Add(1)
		feeding.queues[q] = struct{}{}
		feeding.Unlock()
		go f.loop(q)
	}
}

func (f *feeder) loop(q *Queue) {
	defer feeding.wg.Done()
	for {
		f.mu.Lock()
		if len(f.buf) == 0 {
			f.running = false
			close(f.idle)
			f.mu.Unlock()
			return
		}
		batch := f.buf
		f.buf = f.spare[:0]
		f.mu.Unlock()

		n, err := q.writeFrames(batch)

		f.mu.Lock()
		if err == errStopped {
			// The process is exiting and the pipe is full: leave the
			// rest for the parent.
			f.buf = append(batch[n:len(batch):len(batch)], f.buf...)
			f.stuck, f.running = true, false
			close(f.idle)
			f.mu.Unlock()
			return
		}
		if err != nil {
			f.err = err
		}
		if cap(batch) <= 1<<20 {
			f.spare = batch[:0]
		}
		f.mu.Unlock()
	}
}

// wait waits until the feeder has written everything.
func (f *feeder) wait() {
	f.mu.Lock()
	idle := f.idle
	f.mu.Unlock()
	if idle != nil {
		<-idle
	}
}

// errStopped is writeFrames's result when the process is exiting and the
// pipe is full.
var errStopped = errors.New("mp: feeder stopped at exit")

// feeding tracks the feeders of this process, which a child waits for, or
// stops, before it exits.
var feeding = struct {
	sync.Mutex
	wg      sync.WaitGroup
	queues  map[*Queue]struct{}
	exiting atomic.Bool
}{queues: map[*Queue]struct{}{}}

// flushQueues runs as a child exits. It lets each feeder write what fits
// in its pipe; what does not fit, because no one reads, goes to a spill
// file that the parent puts on the queue for it (adoptSpills). Python's
// child instead waits for its feeder, and a parent that joins it before
// getting deadlocks (bpo-29797).
func flushQueues() []bootstrap.Spill {
	feeding.exiting.Store(true)
	feeding.Lock()
	qs := make([]*Queue, 0, len(feeding.queues))
	for q := range feeding.queues {
		qs = append(qs, q)
	}
	feeding.Unlock()
	for _, q := range qs {
		wakeWriter(q.w) // a feeder waiting for room stops
	}
	feeding.wg.Wait()
	var spills []bootstrap.Spill
	for _, q := range qs {
		q.feed.mu.Lock()
		rest := q.feed.buf
		q.feed.mu.Unlock()
		if len(rest) == 0 {
			continue
		}
		f, err := os.CreateTemp("", "mp-spill-*")
		if err != nil {
			continue
		}
		_, err = f.Write(rest)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(f.Name())
			continue
		}
		spills = append(spills, bootstrap.Spill{Queue: bytes.Clone(q.id[:]), Path: f.Name()})
	}
	return spills
}

// adoptSpills puts on their queues the items that a child could not write
// before it exited, and removes the files. A spill for a queue this process
// no longer holds is lost, as the child's items would be in Python.
func adoptSpills(spills []bootstrap.Spill) {
	for _, sp := range spills {
		if filepath.Dir(sp.Path) != filepath.Clean(os.TempDir()) ||
			!strings.HasPrefix(filepath.Base(sp.Path), "mp-spill-") {
			continue // not a file flushQueues made
		}
		b, err := os.ReadFile(sp.Path)
		os.Remove(sp.Path)
		q := lookupQueue(sp.Queue)
		if err != nil || q == nil || !wire.ValidFrames(b) {
			continue
		}
		q.mu.Lock()
		closed := q.closing
		q.mu.Unlock()
		if !closed {
			q.feed.putFrames(q, b)
		}
	}
}
