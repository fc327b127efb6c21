package robust

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"
)

// The mutex record, MutexSize bytes at a 8-byte aligned offset:
//
//	0   owner    uint64  ID of the holder; 0 when free
//	8   seq      uint32  changed by Unlock when someone waits (futex word)
//	12  waiters  uint32  processes waiting in the kernel
//	16  journal  uint32  number of valid journal entries; 0 when none
//	24  starver  uint64  ID of a process that has waited too long; 0 when none
//	32  entries  [MaxJournal]{off, value uint64}
const (
	mOwner   = 0
	mSeq     = 8
	mWaiters = 12
	mJournal = 16
	mStarver = 24
	mEntries = 32

	// MaxJournal is how many updates one Commit can make.
	MaxJournal = 30

	// MutexSize is the size of a Mutex record in shared memory.
	MutexSize = mEntries + 16*MaxJournal
)

// starveAfter is how long a process waits for the lock before it asks the
// others to stop taking it ahead of it (Go's sync.Mutex does the same after
// 1 ms): a lock taken in a tight loop by other processes, or waited for by
// looking (see Wait) where the others are woken, would otherwise keep it
// waiting for seconds.
const starveAfter = 2 * time.Millisecond

// spins is how many times Lock looks at a held lock before it sleeps in the
// kernel: holders keep it for well under a microsecond (a copy and a few
// stores), and a futex sleep and wakeup cost several.
const spins = 100

// Mutex is a lock in shared memory held by a process, not a goroutine: any
// goroutine of the holding process may Unlock it, and goroutines of one
// process exclude each other through the shared word itself. Taking a free
// lock is one compare-and-swap of the owner word with the process's ID, and
// releasing it another; a goroutine that finds it held waits at a
// process-local Gate, so that one goroutine per process spins and sleeps in
// the kernel and the others wait for it on a channel.
//
// The lock is not fair, which makes it fast, but a process that has waited
// for it for a few milliseconds is served next: the others stop taking it
// ahead of it.
//
// A process that dies holding it (killed at any instant) does not keep it:
// a waiter checks the holder's liveness every Interval, and once more before
// its deadline ends its wait, and takes the lock over, and Lock reports
// that, as a robust pthread mutex reports EOWNERDEAD.
//
// Updates of several words that must be all-or-nothing go through the
// journal: Stage each (offset, value) and Commit. Commit records them in the
// mutex record before it applies them, and whoever takes over a dead
// holder's lock applies a recorded journal again before anything else, so
// the words hold either all the old values or all the new ones, whatever
// instant the holder died at. Copies of bulk data are made before the
// Commit that publishes them, so a copy cut short is never seen.
type Mutex struct {
	mem     []byte
	off     int
	owner   *atomic.Uint64
	starver *atomic.Uint64
	seq     *atomic.Uint32
	seqRaw  *uint32
	waiters *atomic.Uint32
	journal *atomic.Uint32
	entries *[MaxJournal]entry
	gate    *Gate  // held by the goroutine of this process that waits for the lock
	self    uint64 // Self(), read once
	staged  int
	race    raceClock
}

// entry is a journal entry: set the word at off to val.
type entry struct{ off, val uint64 }

// NewMutex returns this process's handle on the mutex record at off in mem
// (MutexSize bytes, 8-byte aligned). Journal offsets are offsets in mem.
func NewMutex(mem []byte, off int) *Mutex {
	check(mem, off, 8)
	check(mem, off+MutexSize-8, 8)
	seq := Uint32At(mem, off+mSeq)
	return &Mutex{
		mem:     mem,
		off:     off,
		owner:   Uint64At(mem, off+mOwner),
		starver: Uint64At(mem, off+mStarver),
		seq:     seq,
		seqRaw:  (*uint32)(unsafe.Pointer(seq)),
		waiters: Uint32At(mem, off+mWaiters),
		journal: Uint32At(mem, off+mJournal),
		entries: (*[MaxJournal]entry)(unsafe.Pointer(&mem[off+mEntries])),
		gate:    NewGate(),
		self:    uint64(Self()),
	}
}

// Owner returns the ID of the process that holds the lock; 0 if none.
func (m *Mutex) Owner() ID { return ID(m.owner.Load()) }

// Held reports whether this process holds the lock.
func (m *Mutex) Held() bool { return m.owner.Load() == m.self }

// TryLock takes the lock if it is free at once, and reports whether it did.
// It never takes a dead holder's lock over (Lock does).
func (m *Mutex) TryLock() bool {
	if m.starver.Load() == 0 && m.owner.CompareAndSwap(0, m.self) {
		m.race.acquire()
		return true
	}
	return false
}

// Lock takes the lock, waiting until deadline (zero: no deadline) or until
// ctx is done. It returns ErrTimeout, or ctx's error, if it could not; a
// deadline already passed makes it a single try, which still takes over the
// lock of a holder that is dead. recovered reports that the previous holder
// died holding the lock: its journal, if it had committed one only in part,
// has been applied, but anything else it was doing was cut short, and the
// caller holds the lock and must bring the protected state back to
// consistency.
func (m *Mutex) Lock(ctx context.Context, deadline time.Time) (recovered bool, err error) {
	if m.starver.Load() == 0 && m.owner.CompareAndSwap(0, m.self) {
		m.race.acquire()
		return false, nil
	}
	return m.lockSlow(ctx, deadline)
}

func (m *Mutex) lockSlow(ctx context.Context, deadline time.Time) (recovered bool, err error) {
	// One goroutine of this process spins and sleeps; the others wait here.
	if err := m.gate.Lock(ctx, deadline, nil); err != nil {
		if err == ErrTimeout {
			// The goroutine at the gate may be in a long sleep: a try
			// still takes a dead holder's lock over.
			return m.takeOver()
		}
		return false, err
	}
	defer m.gate.Unlock()
	try := !deadline.IsZero() && !time.Now().Before(deadline)
	for i := 0; i < spins && !try; i++ {
		if m.owner.Load() == 0 && m.starver.Load() == 0 && m.owner.CompareAndSwap(0, m.self) {
			m.race.acquire()
			return false, nil
		}
		if i%10 == 9 {
			runtime.Gosched()
		}
	}
	recovered, err = m.wait(ctx, deadline)
	if err != nil {
		return false, err
	}
	m.race.acquire()
	if recovered {
		m.replay()
	}
	return recovered, nil
}

// takeOver takes the lock if it is free or its holder is dead, without
// waiting.
func (m *Mutex) takeOver() (bool, error) {
	o := m.owner.Load()
	if o == 0 && m.starver.Load() == 0 && m.owner.CompareAndSwap(0, m.self) {
		m.race.acquire()
		return false, nil
	}
	if o != 0 && o != m.self && !Alive(ID(o)) && m.owner.CompareAndSwap(o, m.self) {
		m.race.acquire()
		m.replay()
		return true, nil
	}
	return false, ErrTimeout
}

func (m *Mutex) wait(ctx context.Context, deadline time.Time) (recovered bool, err error) {
	if ctx.Done() != nil {
		// A cancelled context ends the kernel wait at once.
		stop := context.AfterFunc(ctx, func() { Wake(m.seqRaw, 0) })
		defer stop()
	}
	self := m.self
	m.waiters.Add(1)
	defer m.waiters.Add(^uint32(0))
	start := time.Now()
	starving := false
	defer func() {
		if starving && (err != nil || recovered) && m.starver.CompareAndSwap(self, 0) && err != nil {
			// Leave no claim behind, and wake those that stood back for it.
			m.seq.Add(1)
			Wake(m.seqRaw, 0)
		}
	}()
	owner, starver := watch{}, watch{}
	for {
		s := m.seq.Load()
		o := m.owner.Load()
		st := m.starver.Load()
		if o == 0 && (st == 0 || st == self) {
			if m.owner.CompareAndSwap(0, self) {
				if st == self {
					m.starver.Store(0)
					starving = false
				}
				return false, nil
			}
			continue
		}
		now := time.Now()
		if !starving && st == 0 && o != self && now.Sub(start) >= starveAfter && m.starver.CompareAndSwap(0, self) {
			starving = true
			continue
		}
		if o != 0 && o != self && owner.dead(o, now) && m.owner.CompareAndSwap(o, self) {
			return true, nil
		}
		if st != 0 && st != self && starver.dead(st, now) {
			m.starver.CompareAndSwap(st, 0)
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
		d := owner.since.Add(Interval).Sub(now)
		if o == 0 {
			d = Interval
		}
		if !deadline.IsZero() {
			rest := deadline.Sub(now)
			if rest <= 0 {
				// Before giving up, make sure the holder is not dead: a
				// caller that only ever waits for less than Interval must
				// recover a dead holder's lock too.
				if o != 0 && o != self && !owner.checked && !Alive(ID(o)) && m.owner.CompareAndSwap(o, self) {
					return true, nil
				}
				return false, ErrTimeout
			}
			d = min(d, rest)
		}
		Wait(m.seqRaw, s, d)
	}
}

// watch tracks a process that a waiter waits for: once the same process
// has been seen for Interval, it is checked for life, and again every
// Interval.
type watch struct {
	id      uint64
	since   time.Time
	checked bool // id has been checked for life
}

// dead reports whether id, seen at now, has been watched for an Interval
// and is found dead.
func (w *watch) dead(id uint64, now time.Time) bool {
	if id != w.id {
		w.id, w.since, w.checked = id, now, false
		return false
	}
	if now.Sub(w.since) < Interval {
		return false
	}
	w.since, w.checked = now, true
	return !Alive(ID(id))
}

// Unlock releases the lock, and reports whether this process held it (if
// it did not, Unlock changes nothing). It panics if updates are staged and
// not committed.
func (m *Mutex) Unlock() bool {
	if m.staged != 0 {
		panic("mp: robust: Unlock with uncommitted journal entries")
	}
	m.race.release()
	// If another process took the lock over (it judged this one dead, which
	// only a wrong liveness answer can make happen), leave it be.
	if !m.owner.CompareAndSwap(m.self, 0) {
		return false
	}
	if m.waiters.Load() > 0 {
		m.seq.Add(1)
		n := 1
		if m.starver.Load() != 0 {
			n = 0 // the one that starves must wake, whichever the kernel picks
		}
		Wake(m.seqRaw, n)
	}
	return true
}

// Stage records that the 64-bit word at off in mem is to be set to v by the
// next Commit. The lock must be held. It panics if more than MaxJournal
// updates are staged, or off is not a word of mem outside the record.
func (m *Mutex) Stage(off int, v uint64) {
	if m.staged == MaxJournal {
		panic("mp: robust: more than MaxJournal updates staged")
	}
	if !m.validTarget(uint64(off)) {
		panic(fmt.Sprintf("mp: robust: cannot journal the word at offset %d", off))
	}
	// Plain stores: Commit publishes them with an atomic store of the
	// count, which orders them before it.
	m.entries[m.staged] = entry{uint64(off), v}
	m.staged++
}

// Commit applies the staged updates, all or nothing: if the process dies
// part way, whoever takes the lock over finishes them.
func (m *Mutex) Commit() {
	n := m.staged
	if n == 0 {
		return
	}
	m.journal.Store(uint32(n))
	m.apply(n)
	m.journal.Store(0)
	m.staged = 0
}

func (m *Mutex) apply(n int) {
	for i := range n {
		e := m.entries[i]
		if m.validTarget(e.off) {
			(*atomic.Uint64)(unsafe.Pointer(&m.mem[e.off])).Store(e.val)
		}
	}
}

// replay applies the journal of a holder that died inside Commit.
func (m *Mutex) replay() {
	m.staged = 0
	if n := m.journal.Load(); n > 0 && n <= MaxJournal {
		m.apply(int(n))
		replays.Add(1)
	}
	m.journal.Store(0)
}

// replays counts the journals this process finished for dead holders, for
// the tests.
var replays atomic.Int64

func (m *Mutex) validTarget(off uint64) bool {
	return off%8 == 0 && off <= uint64(len(m.mem)-8) &&
		(off+8 <= uint64(m.off) || off >= uint64(m.off+MutexSize))
}
