package robust

import (
	"context"
	"sync/atomic"
	"time"
)

// EventSize is the size of an Event in shared memory: a flag word and a
// Seq, at an 8-byte aligned offset.
const EventSize = 8 + SeqSize

// Event is a flag in shared memory that processes wait to see set. It has
// no holder, so a process that dies leaves nothing behind.
type Event struct {
	flag *atomic.Uint32
	seq  *Seq
	race raceClock
}

// NewEvent returns this process's handle on the Event at off in mem.
func NewEvent(mem []byte, off int) *Event {
	check(mem, off, 8)
	return &Event{flag: Uint32At(mem, off), seq: NewSeq(mem, off+8)}
}

// Set sets the flag and wakes every waiter.
func (e *Event) Set() {
	e.race.release()
	if e.flag.Swap(1) == 0 {
		e.seq.Wake()
	}
}

// Clear clears the flag.
func (e *Event) Clear() { e.flag.Store(0) }

// IsSet reports whether the flag is set.
func (e *Event) IsSet() bool {
	if e.flag.Load() != 0 {
		e.race.acquire()
		return true
	}
	return false
}

// Wait waits until the flag is set, until deadline (zero: none; passed: no
// wait) or until ctx is done, and returns ErrTimeout or ctx's error if the
// flag was not set.
func (e *Event) Wait(ctx context.Context, deadline time.Time) error {
	for {
		s := e.seq.Load()
		if e.IsSet() {
			return nil
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return ErrTimeout
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		e.seq.Wait(s, deadline, ctx.Done())
	}
}
