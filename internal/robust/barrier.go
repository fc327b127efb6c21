package robust

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// The barrier record, BarrierSize(slots) bytes at an 8-byte aligned offset:
//
//	0     mutex    Mutex   guards everything below
//	M     seq      Seq     changed whenever state or count changes
//	M+8   parties  uint64
//	M+16  state    uint64  filling, draining, resetting or broken
//	M+24  count    uint64  goroutines inside Wait
//	M+32  table    Table   per process: its goroutines inside Wait (field 0)
const (
	barSeq     = MutexSize
	barParties = barSeq + 8
	barState   = barSeq + 16
	barCount   = barSeq + 24
	barTable   = barSeq + 32
)

// The states of a barrier, as Python's threading.Barrier has them: filling
// while parties arrive, draining while the released leave (newcomers wait
// for them), resetting while those that Reset broke leave, and broken.
const (
	filling   = 0
	draining  = 1
	resetting = 2
	broken    = 3
)

// ErrBroken is returned by a Barrier wait that the barrier's breaking
// ended, or that found it broken.
var ErrBroken = errors.New("mp: barrier is broken")

// BarrierSize returns the size of a Barrier whose parties may be in slots
// processes at once.
func BarrierSize(slots int) int { return barTable + TableSize(slots, 1) }

// Barrier is a barrier in shared memory for a fixed number of parties,
// with Python's threading.Barrier semantics (arrival index, abort, reset,
// a timeout that breaks it). Each process has a record of how many of its
// goroutines are inside Wait; a waiter that finds a dead process's record
// still counted takes its goroutines out, and breaks the barrier if it was
// filling, within about Interval of the death.
type Barrier struct {
	m       *Mutex
	seq     *Seq
	parties *atomic.Uint64
	state   *atomic.Uint64
	count   *atomic.Uint64
	tab     *Table
	self    ID
	checked atomic.Int64 // when this process last looked for dead waiters (UnixNano)
}

// InitBarrier sets up a new, zeroed Barrier record for parties parties.
// Only its creator calls it, before other processes see it.
func InitBarrier(mem []byte, off, parties int) {
	Uint64At(mem, off+barParties).Store(uint64(parties))
}

// NewBarrier returns this process's handle on the Barrier at off in mem.
func NewBarrier(mem []byte, off, slots int) *Barrier {
	return &Barrier{
		m:       NewMutex(mem, off),
		seq:     NewSeq(mem, off+barSeq),
		parties: Uint64At(mem, off+barParties),
		state:   Uint64At(mem, off+barState),
		count:   Uint64At(mem, off+barCount),
		tab:     NewTable(mem, off+barTable, slots, 1),
		self:    Self(),
	}
}

// Parties returns the number of parties.
func (b *Barrier) Parties() int { return int(b.parties.Load()) }

// Broken reports whether the barrier is broken.
func (b *Barrier) Broken() bool { return b.state.Load() == broken }

// NWaiting returns how many parties wait for the others.
func (b *Barrier) NWaiting() int {
	b.lock()
	defer b.m.Unlock()
	if b.state.Load() == filling {
		return int(b.count.Load())
	}
	return 0
}

func (b *Barrier) lock() { _, _ = b.m.Lock(context.Background(), time.Time{}) }

// stage stages a new value of a word of the record.
func (b *Barrier) stage(field int, v uint64) { b.m.Stage(b.m.off+field, v) }

// commit commits, and wakes the waiters if state or count changed.
func (b *Barrier) commit() {
	b.m.Commit()
	b.seq.Wake()
}

// Wait waits until parties goroutines, in any processes, wait, and returns
// the caller's arrival index (0 for the first, parties-1 for the last). It
// returns ErrBroken if the barrier is or becomes broken (by Abort, Reset, a
// dead waiter, or another's timeout) while the caller waits. If deadline
// (zero: none) passes or ctx is done first, it breaks the barrier and
// returns ErrTimeout or ctx's error.
func (b *Barrier) Wait(ctx context.Context, deadline time.Time) (int, error) {
	b.lock()
	// Wait for the parties of the last round, or of a reset, to leave.
	for st := b.state.Load(); st == draining || st == resetting; st = b.state.Load() {
		s := b.seq.Load()
		b.m.Unlock()
		if err := b.pause(ctx, s, deadline); err != nil {
			return -1, err
		}
		b.lock()
	}
	if b.state.Load() == broken {
		b.m.Unlock()
		return -1, ErrBroken
	}
	slot, err := b.tab.Claim(b.m, b.self)
	if err == ErrTableFull {
		b.reapLocked()
		slot, err = b.tab.Claim(b.m, b.self)
	}
	if err != nil {
		b.m.Unlock()
		return -1, err
	}
	inside := b.tab.Field(slot, 0)
	index := int(b.count.Load())
	b.stage(barCount, uint64(index+1))
	b.m.Stage(b.tab.FieldOff(slot, 0), inside.Load()+1)
	if index+1 == b.Parties() {
		b.stage(barState, draining)
		b.commit()
	} else {
		b.commit()
		for b.state.Load() == filling {
			s := b.seq.Load()
			b.m.Unlock()
			err = b.pause(ctx, s, deadline)
			b.lock()
			if err != nil {
				if b.state.Load() == filling {
					b.stage(barState, broken)
					b.commit()
				}
				break
			}
		}
		if st := b.state.Load(); err == nil && (st == broken || st == resetting) {
			err = ErrBroken
		}
	}
	// Leave: the last to leave ends a draining or a reset.
	n := b.count.Load() - 1
	b.stage(barCount, n)
	b.m.Stage(b.tab.FieldOff(slot, 0), inside.Load()-1)
	if st := b.state.Load(); n == 0 && (st == draining || st == resetting) {
		b.stage(barState, filling)
	}
	b.commit()
	b.m.Unlock()
	if err != nil {
		return -1, err
	}
	return index, nil
}

// pause waits for a change after s, until deadline or ctx; between waits,
// it looks for dead waiters.
func (b *Barrier) pause(ctx context.Context, s uint32, deadline time.Time) error {
	if !deadline.IsZero() && !time.Now().Before(deadline) {
		return ErrTimeout
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b.seq.Wait(s, deadline, ctx.Done())
	if now := time.Now().UnixNano(); now-b.checked.Load() >= int64(Interval) {
		b.checked.Store(now)
		b.lock()
		b.reapLocked()
		b.m.Unlock()
	}
	return nil
}

// reapLocked takes the goroutines of dead processes out of the barrier,
// breaking it if it was filling, with the mutex held.
func (b *Barrier) reapLocked() {
	b.tab.Reap(b.m, func(slot int) bool { return b.tab.Field(slot, 0).Load() > 0 }, func(slot int) {
		n := b.count.Load() - min(b.count.Load(), b.tab.Field(slot, 0).Load())
		b.stage(barCount, n)
		switch st := b.state.Load(); {
		case st == filling:
			b.stage(barState, broken)
		case n == 0 && (st == draining || st == resetting):
			b.stage(barState, filling)
		}
	})
	b.seq.Wake()
}

// Abort breaks the barrier: waiters and later callers of Wait get
// ErrBroken until Reset.
func (b *Barrier) Abort() {
	b.lock()
	b.stage(barState, broken)
	b.commit()
	b.m.Unlock()
}

// Reset returns the barrier to its initial state; goroutines waiting in it
// get ErrBroken.
func (b *Barrier) Reset() {
	b.lock()
	switch st := b.state.Load(); {
	case b.count.Load() == 0:
		b.stage(barState, filling)
	case st == filling || st == broken:
		b.stage(barState, resetting)
	}
	b.commit()
	b.m.Unlock()
}

// WakeLocal ends the waits of this process's goroutines early (they look
// again), so that a cancellation they watch for is seen at once.
func (b *Barrier) WakeLocal() { b.seq.WakeLocal() }
