// Package ring owns mp's queue mechanism: a first-in, first-out queue of
// byte messages in a shared memory segment that any number of processes put
// to and get from, whoever among them dies, at any instant.
//
// The segment holds a header (a robust mutex with its journal, positions and
// counters, wakeup words, a table of per-process records) and a byte ring.
// A message is a frame in the ring: an 8-byte header (length, and its
// complement as a check) and the payload, padded to 8 bytes. Put copies a
// frame into free space and then commits the new tail under the mutex, with
// the counters, in one journaled commit; Get copies a frame out and commits
// the new head the same way. A process killed in the middle of a copy
// changes nothing; killed inside the commit, the next holder of the mutex
// finishes it. No frame is ever torn or interleaved with another.
//
// A frame larger than the free space, when it is also larger than a quarter
// of the ring, streams through the ring: its writer publishes the header and
// then chunks as room appears, owning the stream (one writer at a time;
// other producers wait), and the reader that reaches the header claims it
// and copies chunks out as they come. A dead writer's stream is aborted (the
// reader drops it); a dead reader's stream is drained by the next reader.
//
// Put never waits for room in the ring (Python's semantics): a message that
// does not fit goes to this process's backlog, which a feeder goroutine
// writes as room appears, in order. A bounded queue reserves its capacity
// at Put. An exiting child that cannot write its backlog hands it to its
// parent (see Flush and Adopt) rather than wait for ever (bpo-29797).
//
// Accounting, all in the header, is such that whatever a dead process held
// can be given back by whoever notices the death: each process's record
// counts the messages it put (enq), wrote or handed over (fed) and got
// without yet calling TaskDone (held); a dead process's record is folded into
// totals (retired puts, lost messages, done tasks) and freed.
package ring

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/go-mp/mp/internal/robust"
	"github.com/go-mp/mp/internal/shm"
)

// Errors. The root package re-exports them.
var (
	ErrEmpty    = errors.New("mp: queue is empty")
	ErrFull     = errors.New("mp: queue is full")
	ErrClosed   = errors.New("mp: queue is closed")
	ErrTaskDone = errors.New("mp: TaskDone called too many times")
	// ErrCorrupt: the shared state of a queue is not what this package
	// writes (someone else wrote to the memory).
	ErrCorrupt = errors.New("mp: queue memory is corrupt")
)

// DefaultRing is the ring's size unless Options say otherwise: 1 MiB, the
// largest pipe Linux gives an unprivileged process. BenchmarkRing chose it
// (medians of three runs, one way to another process, 2 shared cores): a
// 1 MiB ring against 256 KiB moved 16-byte items at 1.18 M/s against
// 0.85 M/s, 64 KiB items at 955 MB/s against 862, 1 MiB items at 1010 MB/s
// against 730; 4 MiB did no better. Its pages cost memory once a ring
// position has reached them.
const DefaultRing = 1 << 20

// MaxMaxsize is the largest bounded capacity.
const MaxMaxsize = 1<<31 - 1

// Slots is how many processes can have a record in one queue at a time
// (those that put, and for a joinable queue those that get); the records of
// dead processes are reused.
const Slots = 1024

// Segment layout.
const (
	offMutex = 0
	offWords = robust.MutexSize // the words below, 8 bytes each
	hMagic   = offWords + 8*iota
	hRing    // ring size
	hMaxsize // bounded capacity; 0 unbounded
	hFlags   // flagJoinable
	hHead    // bytes consumed since creation
	hTail    // bytes committed since creation
	hItems   // frames (whole or streaming) committed and not yet taken
	hLost    // messages lost: dead producers' backlogs, aborted streams
	hDone    // TaskDone calls, and held messages of dead consumers
	hHanded  // messages handed over at exit (to be put again by a parent)
	hRetired // messages put by processes whose records were freed
	hSWriter // ID of the process streaming a frame in; 0 when none
	hSStart  // ring position of that frame's header
	hSEnd    // ring position where that frame ends
	hSReader // ID of the process that claimed the frame at the head; 0 when none
	hSREnd   // where the claimed frame ends
	hSFlags  // sAborted, sCounted, sAbandoned
	hEnd
)

const (
	offNotEmpty = hEnd
	offNotFull  = hEnd + robust.SeqSize
	offAllDone  = hEnd + 2*robust.SeqSize
	offTable    = (offAllDone + robust.SeqSize + 63) &^ 63
	fields      = 3 // enq, fed, held
	fEnq        = 0
	fFed        = 1
	fHeld       = 2
	tableEnd    = offTable + Slots*(1+fields)*8 + 8
	// OffRing is where the ring begins: a page boundary after the header.
	offRing = (tableEnd + 4095) &^ 4095
)

const (
	magic        = 0x6d70_7172_696e_6701 // "mpqring" and a version
	flagJoinable = 1

	// Flags of the frame at the head that a reader claimed while it was
	// still streaming in.
	sAborted   = 1 // its writer stopped: whoever reads it drops it
	sCounted   = 2 // its message has been counted lost (for Join)
	sAbandoned = 4 // its claimer is gone: the next reader drains it
)

// Options configure New.
type Options struct {
	// Maxsize bounds the messages in the queue (backlogs included); zero
	// means no bound.
	Maxsize int
	// Joinable keeps the counts TaskDone and Join need.
	Joinable bool
	// Ring is the ring's size in bytes, a power of two of at least 4 KiB;
	// zero means DefaultRing.
	Ring int
	// MaxMessage is the largest message; zero means no bound but the
	// frame header's (4 GiB).
	MaxMessage int
}

// Queue is this process's handle on a shared queue. Its methods are safe
// for concurrent use.
type Queue struct {
	id       [16]byte
	seg      *shm.Segment
	mem      []byte
	ring     []byte
	size     uint64
	mask     uint64
	maxsize  int
	joinable bool
	maxMsg   uint64

	mu                      *robust.Mutex
	notEmpty, notFull, idle *robust.Seq
	table                   *robust.Table
	head, tail, items       *atomic.Uint64
	lost, done, handed, ret *atomic.Uint64
	sWriter, sStart, sEnd   *atomic.Uint64
	sReader, sREnd, sFlags  *atomic.Uint64
	slot                    atomic.Int64 // this process's record; -1 until claimed
	getGate                 *robust.Gate
	claim                   claim // guarded by getGate
	feed                    feeder
	ops                     atomic.Int64  // operations under way, and opClosing, opClosed
	drained                 chan struct{} // a token when the last operation ends after opClosed
	stop                    chan struct{} // closed by Close: local waits end
	lastCheck               atomic.Int64  // unix nanos of the last liveness sweep
}

// claim is this process's part in a frame it claimed at the head of the
// ring: what it has copied out so far, or that it only drains the frame.
type claim struct {
	active bool
	drain  bool   // a dead or departed reader's frame: drop the bytes
	buf    []byte // the payload so far
	want   int    // the payload's length
}

func word(mem []byte, off int) *atomic.Uint64 { return robust.Uint64At(mem, off) }

// New creates a queue in a new segment.
func New(o Options) (*Queue, error) {
	size := o.Ring
	if size == 0 {
		size = DefaultRing
	}
	if size < 4096 || size&(size-1) != 0 || size > 1<<30 {
		return nil, fmt.Errorf("mp: queue ring of %d bytes: must be a power of two from 4 KiB to 1 GiB", size)
	}
	if o.Maxsize < 0 || o.Maxsize > MaxMaxsize {
		return nil, fmt.Errorf("mp: queue maxsize %d out of range 0..%d", o.Maxsize, MaxMaxsize)
	}
	seg, err := shm.New(offRing + size)
	if err != nil {
		return nil, err
	}
	mem := seg.Bytes()
	word(mem, hRing).Store(uint64(size))
	word(mem, hMaxsize).Store(uint64(o.Maxsize))
	if o.Joinable {
		word(mem, hFlags).Store(flagJoinable)
	}
	word(mem, hMagic).Store(magic)
	var id [16]byte
	_, _ = rand.Read(id[:])
	q := newQueue(id, seg, o.MaxMessage)
	register(q)
	return q, nil
}

// Attach returns this process's handle on the queue whose segment f is (a
// file of size bytes passed by a parent), or the handle it already has for
// id. Attach takes f: the queue owns it, or it is closed (on failure, or
// when a handle existed, unless it is that handle's own file).
func Attach(id [16]byte, f *os.File, size, maxMessage int) (*Queue, error) {
	// Under the registry's lock, so that two goroutines attaching the same
	// queue get one handle.
	registry.Lock()
	defer registry.Unlock()
	if q := registry.m[id].Value(); q != nil && q.ops.Load()&opClosing == 0 {
		if mine, _ := q.File(); mine != f {
			f.Close()
		}
		return q, nil
	}
	if size < offRing+4096 || size > offRing+1<<30 {
		f.Close()
		return nil, fmt.Errorf("%w: bad segment size %d", ErrCorrupt, size)
	}
	seg, err := shm.Attach(f, size)
	if err != nil {
		f.Close()
		return nil, err
	}
	mem := seg.Bytes()
	ring := word(mem, hRing).Load()
	if word(mem, hMagic).Load() != magic || ring != uint64(size-offRing) || ring&(ring-1) != 0 ||
		word(mem, hMaxsize).Load() > MaxMaxsize {
		seg.Close()
		return nil, fmt.Errorf("%w: not a queue segment", ErrCorrupt)
	}
	q := newQueue(id, seg, maxMessage)
	registry.m[id] = weak.Make(q)
	return q, nil
}

func newQueue(id [16]byte, seg *shm.Segment, maxMessage int) *Queue {
	mem := seg.Bytes()
	size := word(mem, hRing).Load()
	q := &Queue{
		id:       id,
		seg:      seg,
		mem:      mem,
		ring:     mem[offRing : offRing+int(size)],
		size:     size,
		mask:     size - 1,
		maxsize:  int(word(mem, hMaxsize).Load()),
		joinable: word(mem, hFlags).Load()&flagJoinable != 0,
		maxMsg:   1<<32 - 1,
		mu:       robust.NewMutex(mem, offMutex),
		notEmpty: robust.NewSeq(mem, offNotEmpty),
		notFull:  robust.NewSeq(mem, offNotFull),
		idle:     robust.NewSeq(mem, offAllDone),
		table:    robust.NewTable(mem, offTable, Slots, fields),
		head:     word(mem, hHead),
		tail:     word(mem, hTail),
		items:    word(mem, hItems),
		lost:     word(mem, hLost),
		done:     word(mem, hDone),
		handed:   word(mem, hHanded),
		ret:      word(mem, hRetired),
		sWriter:  word(mem, hSWriter),
		sStart:   word(mem, hSStart),
		sEnd:     word(mem, hSEnd),
		sReader:  word(mem, hSReader),
		sREnd:    word(mem, hSREnd),
		sFlags:   word(mem, hSFlags),
		getGate:  robust.NewGate(),
		stop:     make(chan struct{}),
		drained:  make(chan struct{}, 1),
	}
	if maxMessage > 0 && uint64(maxMessage) < q.maxMsg {
		q.maxMsg = uint64(maxMessage)
	}
	q.slot.Store(-1)
	// A queue no one can reach any more, closed or not, is unmapped. Close
	// does it at once; this is for handles that are dropped.
	runtime.AddCleanup(q, func(seg *shm.Segment) { _ = seg.Close() }, seg)
	runtime.AddCleanup(q, forget, id)
	return q
}

// ID returns the queue's identity, the same in every process.
func (q *Queue) ID() [16]byte { return q.id }

// File returns the segment's file, to pass to a child, and its size, for
// Attach; nil once closed.
func (q *Queue) File() (*os.File, int) { return q.seg.File(), q.seg.Size() }

// Maxsize returns the bound; 0 for none.
func (q *Queue) Maxsize() int { return q.maxsize }

// Joinable reports whether the queue keeps task counts.
func (q *Queue) Joinable() bool { return q.joinable }

// registry finds this process's queues by identity, for Attach and Adopt.
// It holds them weakly: a queue no one else references is collected.
var registry = struct {
	sync.Mutex
	m map[[16]byte]weak.Pointer[Queue]
}{m: map[[16]byte]weak.Pointer[Queue]{}}

// register records q.
func register(q *Queue) {
	registry.Lock()
	defer registry.Unlock()
	registry.m[q.id] = weak.Make(q)
}

func forget(id [16]byte) {
	registry.Lock()
	defer registry.Unlock()
	if registry.m[id].Value() == nil {
		delete(registry.m, id)
	}
}

// Lookup returns this process's open handle on the queue id; nil if none.
func Lookup(id [16]byte) *Queue {
	registry.Lock()
	q := registry.m[id].Value()
	registry.Unlock()
	if q == nil {
		return nil
	}
	if q.ops.Load()&opClosing != 0 {
		return nil
	}
	return q
}

// Bits of ops above the count of operations under way.
const (
	opClosing = 1 << 62 // Close has begun: no more puts
	opClosed  = 1 << 61 // and the feeder has stopped: no more operations
	opCount   = opClosed - 1
)

// begin registers an operation, or reports that q is closed; end ends
// it. A get (put false) may still run while Close waits for the feeder.
func (q *Queue) begin(put bool) error {
	v := q.ops.Add(1)
	if v&opClosed != 0 || (put && v&opClosing != 0) {
		q.end()
		return ErrClosed
	}
	return nil
}

func (q *Queue) end() {
	if v := q.ops.Add(-1); v&opClosed != 0 && v&opCount == 0 {
		select {
		case q.drained <- struct{}{}:
		default:
		}
	}
}

func (q *Queue) isClosed() bool { return q.ops.Load()&opClosed != 0 }

// lockGrace is how long past its deadline a timed or no-wait call waits for
// the mutex: another process (or this process's feeder) holds it for a
// copy and a commit, and a call should fail because the queue is empty or
// full, not because it was busy for a moment.
const lockGrace = 10 * time.Millisecond

// lockBy returns how long to wait for the mutex for a call with deadline.
func lockBy(deadline time.Time) time.Time {
	if deadline.IsZero() {
		return deadline
	}
	if grace := time.Now().Add(lockGrace); deadline.Before(grace) {
		return grace
	}
	return deadline
}

// lock takes the mutex, and after a dead holder recovers the queue.
func (q *Queue) lock(ctx context.Context, deadline time.Time) error {
	rec, err := q.mu.Lock(ctx, deadline)
	if err != nil {
		return err
	}
	if rec {
		q.recoverLocked()
	}
	return nil
}

// recoverLocked runs after the mutex was taken over from a dead holder: its
// journal has been applied; whatever else it was doing (a copy into free
// space, a copy out of a frame it had not yet committed) left nothing
// visible. Free the dead's records, and end streams whose writer or claimer
// is dead.
func (q *Queue) recoverLocked() {
	q.reapLocked(q.holdsBack)
	q.checkStreamLocked()
}

// holdsBack reports whether a record holds something a dead owner must
// give back: a backlog, or (joinable) messages got and not done. Records
// that hold nothing are freed only when the table runs out (Claim): a
// liveness check costs a system call, and there may be many.
func (q *Queue) holdsBack(s int) bool {
	return q.backlogged(s) || (q.joinable && q.table.Field(s, fHeld).Load() != 0)
}

// releaseLocked frees this process's record if it holds nothing back, as
// it stops using the queue, so that records do not pile up.
func (q *Queue) releaseLocked() {
	s := q.mySlot()
	if s < 0 || q.holdsBack(s) {
		return
	}
	q.mu.Stage(hRetired, q.ret.Load()+q.table.Field(s, fEnq).Load())
	q.table.Free(q.mu, s)
	q.mu.Commit()
	q.slot.Store(-1)
}

// checkStreamLocked aborts the stream of a dead writer and frees the claim
// of a dead reader (marking it abandoned, so the next reader drains it).
// It reports whether it changed anything.
func (q *Queue) checkStreamLocked() bool {
	changed := false
	if w := robust.ID(q.sWriter.Load()); w != 0 && w != robust.Self() && !robust.Alive(w) {
		q.abortStreamLocked(false)
		changed = true
	}
	if r := robust.ID(q.sReader.Load()); r != 0 && r != robust.Self() && !robust.Alive(r) {
		q.abandonLocked()
		changed = true
	}
	return changed
}

// abandonLocked gives up the claim on the frame at the head: the next
// reader drains it. Its message is lost, unless its writer has already
// stopped it (and counted it).
func (q *Queue) abandonLocked() {
	m, flags := q.mu, q.sFlags.Load()
	if flags&(sAborted|sCounted) == 0 {
		m.Stage(hLost, q.lost.Load()+1)
		flags |= sCounted
	}
	m.Stage(hSFlags, flags|sAbandoned)
	m.Stage(hSReader, 0)
	m.Commit()
}

// abortStreamLocked ends the stream being written. With keep (the writer
// itself gives it up, exiting) the message goes back to the writer's
// backlog, to be handed over; otherwise (its writer died, or gave up for
// good) it is lost. An unclaimed frame is cut off the ring; a claimed one
// is marked for whoever reads it to drop, and counted lost (kept, it is
// put again, as a new message).
func (q *Queue) abortStreamLocked(keep bool) {
	if q.sWriter.Load() == 0 {
		return
	}
	m := q.mu
	// The claim words (sReader, sREnd, sFlags) are about the frame at the
	// head, which is this one only if a reader has taken its header.
	if q.head.Load() <= q.sStart.Load() {
		m.Stage(hTail, q.sStart.Load())
		m.Stage(hItems, q.items.Load()-1)
		if !keep {
			m.Stage(hLost, q.lost.Load()+1)
		} else {
			s := q.mySlot()
			m.Stage(q.table.FieldOff(s, fFed), q.table.Field(s, fFed).Load()-1)
		}
	} else {
		flags := q.sFlags.Load() | sAborted
		if flags&sCounted == 0 {
			m.Stage(hLost, q.lost.Load()+1)
			flags |= sCounted
		}
		m.Stage(hSFlags, flags)
		m.Stage(hSREnd, q.tail.Load())
		if keep {
			q.table.Field(q.mySlot(), fEnq).Add(1)
		}
	}
	m.Stage(hSWriter, 0)
	m.Commit()
}

// mySlot returns this process's record; -1 if it has none yet.
func (q *Queue) mySlot() int { return int(q.slot.Load()) }

// claimSlotLocked returns this process's record, claiming one if needed.
func (q *Queue) claimSlotLocked() (int, error) {
	if s := q.mySlot(); s >= 0 {
		return s, nil
	}
	s, err := q.table.Claim(q.mu, robust.Self())
	if errors.Is(err, robust.ErrTableFull) {
		q.reapLocked(nil)
		s, err = q.table.Claim(q.mu, robust.Self())
	}
	if err != nil {
		return -1, err
	}
	q.slot.Store(int64(s))
	return s, nil
}

// reapLocked frees the records of dead processes (those want selects; nil:
// all), folding what they held into the totals: their backlog is lost,
// their puts retired, their held messages done. It reports how many it
// freed.
func (q *Queue) reapLocked(want func(slot int) bool) int {
	t, m := q.table, q.mu
	n := t.Reap(m, want, func(s int) {
		enq, fed, held := t.Field(s, fEnq).Load(), t.Field(s, fFed).Load(), t.Field(s, fHeld).Load()
		m.Stage(hLost, q.lost.Load()+(enq-fed))
		m.Stage(hRetired, q.ret.Load()+enq)
		m.Stage(hDone, q.done.Load()+held)
	})
	if n > 0 {
		// Capacity and tasks may have come back.
		q.notFull.Wake()
		q.idle.Wake()
	}
	return n
}

// backlogged reports whether a record has messages not yet in the ring.
func (q *Queue) backlogged(s int) bool {
	return q.table.Field(s, fEnq).Load() != q.table.Field(s, fFed).Load()
}

// sweep checks, at most once per Interval per process, for dead processes
// that hold something back: records with a backlog (or held tasks), and a
// dead stream writer or claimer. It takes the lock only if it finds one.
func (q *Queue) sweep(ctx context.Context, deadline time.Time, force bool) {
	now := time.Now().UnixNano()
	last := q.lastCheck.Load()
	if !force && now-last < int64(robust.Interval) {
		return
	}
	if !q.lastCheck.CompareAndSwap(last, now) {
		return
	}
	want := q.holdsBack
	found := false
	for s := range q.table.Len() {
		if o := q.table.Owner(s); o != 0 && o != robust.Self() && want(s) && !robust.Alive(o) {
			found = true
			break
		}
	}
	for _, w := range []*atomic.Uint64{q.sWriter, q.sReader} {
		if o := robust.ID(w.Load()); o != 0 && o != robust.Self() && !robust.Alive(o) {
			found = true
		}
	}
	if !found || q.lock(ctx, lockBy(deadline)) != nil {
		return
	}
	q.reapLocked(want)
	changed := q.checkStreamLocked()
	q.mu.Unlock()
	if changed {
		q.notEmpty.Wake()
		q.notFull.Wake()
	}
}

// Close ends this process's use of q: no more puts at once; then it waits
// for the feeder to write what this process put (gets go on meanwhile),
// ends waits under way, drops a frame this process had claimed but not
// finished reading (the next reader drains it), and unmaps the segment.
// Other processes keep using the queue. A second Close returns nil.
func (q *Queue) Close() error {
	if q.ops.Or(opClosing)&opClosing != 0 {
		return nil
	}
	q.feed.wait()
	q.ops.Or(opClosed)
	close(q.stop)
	q.notEmpty.WakeLocal()
	q.notFull.WakeLocal()
	q.idle.WakeLocal()
	for q.ops.Load()&opCount != 0 {
		<-q.drained
	}
	// No operation runs now, and none will start.
	_ = q.getGate.Lock(context.Background(), time.Time{}, nil)
	if q.claim.active {
		q.releaseClaim()
	}
	if q.lock(context.Background(), time.Time{}) == nil {
		q.releaseLocked()
		q.mu.Unlock()
	}
	registry.Lock()
	if registry.m[q.id].Value() == q {
		delete(registry.m, q.id)
	}
	registry.Unlock()
	return q.seg.Close()
}

// releaseClaim gives up a frame this process claimed and had not finished
// reading when it closed the queue: the next reader drains it, and its
// message is lost.
func (q *Queue) releaseClaim() {
	if err := q.lock(context.Background(), time.Time{}); err != nil {
		return
	}
	if robust.ID(q.sReader.Load()) == robust.Self() {
		q.abandonLocked()
	}
	q.mu.Unlock()
	q.claim = claim{}
	q.notEmpty.Wake()
	q.idle.Wake()
}

// lockGate takes the process-local get gate.
func (q *Queue) lockGate(ctx context.Context, deadline time.Time) error {
	err := q.getGate.Lock(ctx, deadline, q.stop)
	if err == robust.ErrStopped {
		return ErrClosed
	}
	return err
}

func putHeader(b []byte, n uint64) {
	binary.LittleEndian.PutUint32(b, uint32(n))
	binary.LittleEndian.PutUint32(b[4:], ^uint32(n))
}

// frameSize is the ring bytes a payload of n bytes takes.
func frameSize(n uint64) uint64 { return 8 + (n+7)&^7 }

// copyIn copies b into the ring at pos, wrapping.
func (q *Queue) copyIn(pos uint64, b []byte) {
	i := pos & q.mask
	k := copy(q.ring[i:], b)
	copy(q.ring, b[k:])
}

// copyOut copies from the ring at pos into b, wrapping.
func (q *Queue) copyOut(b []byte, pos uint64) {
	i := pos & q.mask
	k := copy(b, q.ring[i:])
	copy(b[k:], q.ring)
}

// header reads the frame header at pos: the payload length, or an error.
func (q *Queue) header(pos uint64) (uint64, error) {
	var h [8]byte
	q.copyOut(h[:], pos)
	n := binary.LittleEndian.Uint32(h[:])
	if binary.LittleEndian.Uint32(h[4:]) != ^n {
		return 0, fmt.Errorf("%w: bad frame header at %d", ErrCorrupt, pos)
	}
	return uint64(n), nil
}
