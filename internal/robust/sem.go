package robust

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"time"
)

// The semaphore record, SemSize(slots) bytes at an 8-byte aligned offset:
//
//	0     mutex    Mutex   guards everything below
//	M     value    uint64  units free
//	M+8   bound    uint64  1 + the most value may reach; 0: no limit
//	M+16  orphans  uint64  units given back by dead holders, not yet taken
//	M+24  seq      Seq     changed when units are released
//	M+32  table    Table   per process: units held (field 0)
const (
	semValue   = MutexSize
	semMax     = semValue + 8
	semOrphans = semValue + 16
	semSeq     = semValue + 24
	semTable   = semValue + 32
)

// ErrTooManyReleases is returned by Release of a bounded Sem that is full.
var ErrTooManyReleases = errors.New("mp: semaphore released too many times")

// SemSize returns the size of a Sem whose units slots processes may hold
// at once.
func SemSize(slots int) int { return semTable + TableSize(slots, 1) }

// Sem is a counting semaphore in shared memory whose units are accounted
// to the processes that take them: a process holds the units it acquired
// and has not released. When a process dies holding units, the next
// acquirer that finds none free (or is about to give up) gives them back,
// and the first to take one of them is told, as a Mutex's taker is.
// Consume drops a live process's units without giving them back.
//
// Every change is made under the record's Mutex and journaled, so a process
// killed at any instant leaves the value and the records consistent: no
// unit is lost or made twice.
type Sem struct {
	m       *Mutex
	value   *atomic.Uint64
	max     *atomic.Uint64
	orphans *atomic.Uint64
	seq     *Seq
	tab     *Table
	self    ID
}

// InitSem sets up a new, zeroed Sem record: value units free, at most max
// (negative: no limit). Only its creator calls it, before other processes
// see it.
func InitSem(mem []byte, off, value, max int) {
	Uint64At(mem, off+semValue).Store(uint64(value))
	if max >= 0 {
		Uint64At(mem, off+semMax).Store(uint64(max) + 1)
	}
}

// NewSem returns this process's handle on the Sem record at off in mem.
func NewSem(mem []byte, off, slots int) *Sem {
	return &Sem{
		m:       NewMutex(mem, off),
		value:   Uint64At(mem, off+semValue),
		max:     Uint64At(mem, off+semMax),
		orphans: Uint64At(mem, off+semOrphans),
		seq:     NewSeq(mem, off+semSeq),
		tab:     NewTable(mem, off+semTable, slots, 1),
		self:    Self(),
	}
}

// Value returns the units free. Units of a dead holder count once given
// back (by an acquirer that finds none free).
func (s *Sem) Value() int { return int(min(s.value.Load(), math.MaxInt32)) }

// Max returns the bound given to InitSem; -1 for none.
func (s *Sem) Max() int { return int(s.max.Load()) - 1 }

// lock takes the record's mutex. Its holders keep it for microseconds and
// a dead one's is taken over, so the wait is short and not bounded.
func (s *Sem) lock() {
	_, _ = s.m.Lock(context.Background(), time.Time{})
}

// Acquire takes a unit, waiting until deadline (zero: none) or until ctx is
// done; a deadline already passed makes it a single try. It returns
// ErrTimeout, ErrTableFull, or ctx's error if it could not. recovered
// reports that the unit was given back by a holder that died.
func (s *Sem) Acquire(ctx context.Context, deadline time.Time) (recovered bool, err error) {
	lastReap := time.Now() // dead holders are looked for after Interval of waiting
	reaped := false
	for {
		seq := s.seq.Load()
		now := time.Now()
		last := !deadline.IsZero() && !now.Before(deadline)
		// Before giving up, give back what dead holders kept: a caller that
		// only ever tries must recover their units too.
		reap := now.Sub(lastReap) >= Interval || last && !reaped
		if s.value.Load() > 0 || reap {
			s.lock()
			if reap && s.value.Load() == 0 {
				s.reap()
				lastReap, reaped = now, true
			}
			if s.value.Load() > 0 {
				recovered, err = s.take()
				s.m.Unlock()
				return recovered, err
			}
			s.m.Unlock()
		}
		if last {
			return false, ErrTimeout
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
		s.seq.Wait(seq, deadline, ctx.Done())
	}
}

// take takes a free unit, with the mutex held.
func (s *Sem) take() (recovered bool, err error) {
	slot, err := s.tab.Claim(s.m, s.self)
	if err == ErrTableFull {
		s.tab.Reap(s.m, nil, s.giveBack)
		slot, err = s.tab.Claim(s.m, s.self)
	}
	if err != nil {
		return false, err
	}
	s.m.Stage(semValue+s.base(), s.value.Load()-1)
	held := s.tab.Field(slot, 0).Load()
	s.m.Stage(s.tab.FieldOff(slot, 0), held+1)
	if o := s.orphans.Load(); o > 0 {
		s.m.Stage(semOrphans+s.base(), o-1)
		recovered = true
	}
	s.m.Commit()
	return recovered, nil
}

// base is the record's offset in the memory; journal offsets are offsets
// in the memory.
func (s *Sem) base() int { return s.m.off }

// reap gives back the units of dead holders, with the mutex held.
func (s *Sem) reap() int {
	return s.tab.Reap(s.m, func(slot int) bool { return s.tab.Field(slot, 0).Load() > 0 }, s.giveBack)
}

// giveBack stages the return of a dead holder's units: to the value, up to
// the bound, and to the orphans, so that their takers are told.
func (s *Sem) giveBack(slot int) {
	held := s.tab.Field(slot, 0).Load()
	v := s.value.Load()
	nv := v + held
	if b := s.max.Load(); b != 0 && nv > b-1 {
		nv = max(b-1, v)
	}
	s.m.Stage(semValue+s.base(), nv)
	s.m.Stage(semOrphans+s.base(), s.orphans.Load()+(nv-v))
}

// Release releases a unit: one this process holds, if any, else a new one.
// A bounded Sem already at its bound returns ErrTooManyReleases.
func (s *Sem) Release() error {
	s.lock()
	v := s.value.Load()
	if b := s.max.Load(); b != 0 && v >= b-1 {
		s.m.Unlock()
		return ErrTooManyReleases
	}
	if v >= math.MaxInt32 {
		s.m.Unlock()
		return ErrTooManyReleases
	}
	s.m.Stage(semValue+s.base(), v+1)
	if slot := s.tab.Find(s.self); slot >= 0 {
		if held := s.tab.Field(slot, 0).Load(); held > 0 {
			s.m.Stage(s.tab.FieldOff(slot, 0), held-1)
		}
	}
	s.m.Commit()
	s.m.Unlock()
	s.seq.Wake()
	return nil
}

// Held returns the units this process holds.
func (s *Sem) Held() int {
	s.lock()
	defer s.m.Unlock()
	if slot := s.tab.Find(s.self); slot >= 0 {
		return int(s.tab.Field(slot, 0).Load())
	}
	return 0
}

// Consume drops this process's record: the units it holds are used up, not
// given back, as when a process ends normally having taken units that
// another process released.
func (s *Sem) Consume() {
	s.lock()
	if slot := s.tab.Find(s.self); slot >= 0 {
		s.tab.Free(s.m, slot)
		s.m.Commit()
	}
	s.m.Unlock()
}

// WakeLocal ends the waits of this process's goroutines early (they look
// again), so that a cancellation they watch for is seen at once.
func (s *Sem) WakeLocal() { s.seq.WakeLocal() }
