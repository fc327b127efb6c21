package robust

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// The condition record, CondSize(slots) bytes at an 8-byte aligned offset:
//
//	0     mutex  Mutex   guards claiming and freeing table records
//	M     seq    Seq     changed by Notify
//	M+8   next   uint64  where the next Notify starts looking
//	M+16  table  Table   per process: waiters<<32 | notified (field 0)
const (
	condSeq   = MutexSize
	condNext  = condSeq + 8
	condTable = condSeq + 16
)

// CondSize returns the size of a Cond whose waiters may be in slots
// processes at once.
func CondSize(slots int) int { return condTable + TableSize(slots, 1) }

// Cond is the waiting half of a condition variable in shared memory; the
// lock is the caller's. Each process has a record of how many of its
// goroutines wait and how many notifications they have been given and not
// yet taken, in one word that is changed only by compare-and-swap, so a
// notification is either given to a waiter or not at all. Notify gives
// notifications only to processes that are alive, so a dead waiter is
// never counted; one given to a process that dies before taking it is lost
// with it.
type Cond struct {
	m    *Mutex
	seq  *Seq
	next *atomic.Uint64
	tab  *Table
	self ID
	race raceClock

	mu   sync.Mutex
	slot int // this process's record; -1 until claimed
}

// NewCond returns this process's handle on the Cond record at off in mem.
func NewCond(mem []byte, off, slots int) *Cond {
	return &Cond{
		m:    NewMutex(mem, off),
		seq:  NewSeq(mem, off+condSeq),
		next: Uint64At(mem, off+condNext),
		tab:  NewTable(mem, off+condTable, slots, 1),
		self: Self(),
		slot: -1,
	}
}

func (c *Cond) word() (*atomic.Uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.slot < 0 {
		_, _ = c.m.Lock(context.Background(), time.Time{})
		slot, err := c.tab.Claim(c.m, c.self)
		if err == ErrTableFull {
			c.tab.Reap(c.m, nil, nil)
			slot, err = c.tab.Claim(c.m, c.self)
		}
		c.m.Unlock()
		if err != nil {
			return nil, err
		}
		c.slot = slot
	}
	return c.tab.Field(c.slot, 0), nil
}

// Enter counts the calling goroutine as a waiter. The caller holds the
// condition's lock, and releases it only after Enter: a Notify made after
// that sees the waiter.
func (c *Cond) Enter() error {
	w, err := c.word()
	if err != nil {
		return err
	}
	w.Add(1 << 32)
	return nil
}

// Wait waits, after Enter, until this process's waiters are given a
// notification and takes it, until deadline (zero: none) or until ctx is
// done. It returns ErrTimeout or ctx's error if no notification came; the
// goroutine is then no longer counted. A notification that comes as the
// wait ends is taken, not lost.
func (c *Cond) Wait(ctx context.Context, deadline time.Time) error {
	w, err := c.word()
	if err != nil {
		return err
	}
	for {
		s := c.seq.Load()
		if take(w) {
			c.race.acquire()
			return nil
		}
		err := ctx.Err()
		if err == nil && !deadline.IsZero() && !time.Now().Before(deadline) {
			err = ErrTimeout
		}
		if err != nil {
			if leave(w) {
				c.race.acquire()
				return nil
			}
			return err
		}
		c.seq.Wait(s, deadline, ctx.Done())
	}
}

// take takes a notification if the process has one.
func take(w *atomic.Uint64) bool {
	for {
		v := w.Load()
		if uint32(v) == 0 {
			return false
		}
		if w.CompareAndSwap(v, v-1<<32-1) {
			return true
		}
	}
}

// leave stops counting a waiter, taking a notification instead if there is
// one (and reporting so).
func leave(w *atomic.Uint64) bool {
	for {
		v := w.Load()
		if uint32(v) != 0 {
			if w.CompareAndSwap(v, v-1<<32-1) {
				return true
			}
			continue
		}
		if w.CompareAndSwap(v, v-1<<32) {
			return false
		}
	}
}

// Notify gives up to n notifications to waiters of live processes, and
// returns how many it gave. The caller holds the condition's lock. It
// starts each time at the next process, so that no process's waiters are
// passed over for ever.
func (c *Cond) Notify(n int) int {
	size := c.tab.Len()
	if n <= 0 || size == 0 {
		return 0
	}
	c.race.release()
	start := int(c.next.Add(1) % uint64(size))
	given := 0
	for i := 0; i < size && given < n; i++ {
		slot := (start + i) % size
		o := c.tab.Owner(slot)
		if o == 0 {
			continue
		}
		w := c.tab.Field(slot, 0)
		checked := false
		for given < n {
			v := w.Load()
			waiting, notified := uint32(v>>32), uint32(v)
			if waiting <= notified {
				break
			}
			if !checked && o != c.self {
				if !Alive(o) {
					break
				}
				checked = true
			}
			k := min(int(waiting-notified), n-given)
			if w.CompareAndSwap(v, v+uint64(k)) {
				given += k
			}
		}
	}
	if given > 0 {
		c.seq.Wake()
	}
	return given
}

// Waiting returns how many goroutines of live and dead processes wait and
// have not been notified.
func (c *Cond) Waiting() int {
	n := 0
	for slot := range c.tab.Len() {
		v := c.tab.Field(slot, 0).Load()
		if w, k := uint32(v>>32), uint32(v); w > k {
			n += int(w - k)
		}
	}
	return n
}

// WakeLocal ends the waits of this process's goroutines early (they look
// again), so that a cancellation they watch for is seen at once.
func (c *Cond) WakeLocal() { c.seq.WakeLocal() }
