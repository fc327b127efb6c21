package mp

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"time"

	"github.com/go-mp/mp/internal/handles"
	"github.com/go-mp/mp/internal/robust"
)

// MaxSemaphoreValue is the largest value a Semaphore may have: Python's
// SEM_VALUE_MAX on Linux. A Release that would pass it returns
// ErrTooManyReleases.
const MaxSemaphoreValue = math.MaxInt32

// Semaphore is a counting semaphore that processes share, like Python's
// multiprocessing.Semaphore and BoundedSemaphore: Acquire takes a unit,
// waiting while there is none, and Release adds one. A bounded semaphore
// (NewBoundedSemaphore) refuses a Release that would raise its value above
// the initial one.
//
// Units are accounted to processes: a process holds the units it acquired
// and has not released (a Release by a process that holds none adds a
// unit, as a producer's does). When a process dies holding units (killed
// at any instant, or crashed), they are given back: an Acquire that finds
// no unit free, or is about to give up, looks for dead holders (at most
// every 0.1 s) and returns their units, and the Acquire that takes one of
// them returns ErrOwnerDead with the unit. A child whose target returns,
// or a process that calls Close, uses up the units it still holds, as in
// Python: they may be units another process released for it to take.
//
// Value is available on every OS (Python lacks it on macOS). A Semaphore
// crosses into children as a Lock does. The zero Semaphore is not usable:
// create semaphores with NewSemaphore or NewBoundedSemaphore.
type Semaphore struct {
	c *semCore
}

type semCore struct {
	obj *syncObj
	s   *robust.Sem
}

func newSemCore(o *syncObj) any {
	c := &semCore{obj: o, s: robust.NewSem(o.mem, 0, syncSlots)}
	o.onClose, o.atExit = c.s.Consume, c.s.Consume
	return c
}

// NewSemaphore returns a semaphore with value units free, which may be 0
// to MaxSemaphoreValue.
func NewSemaphore(value int) (*Semaphore, error) { return newSemaphore(value, false) }

// NewBoundedSemaphore returns a semaphore with value units free whose
// value Release may not raise above value.
func NewBoundedSemaphore(value int) (*Semaphore, error) { return newSemaphore(value, true) }

func newSemaphore(value int, bounded bool) (*Semaphore, error) {
	if value < 0 || value > MaxSemaphoreValue {
		return nil, fmt.Errorf("%w: semaphore value %d is not in 0..%d", ErrArgs, value, MaxSemaphoreValue)
	}
	bound := -1
	if bounded {
		bound = value
	}
	o, err := newSyncObj(kindSemaphore, func(mem []byte) { robust.InitSem(mem, 0, value, bound) }, newSemCore)
	if err != nil {
		return nil, err
	}
	return &Semaphore{c: o.core.(*semCore)}, nil
}

func (s *Semaphore) core() *semCore {
	if s == nil || s.c == nil {
		panic("mp: use of a zero Semaphore: create it with NewSemaphore")
	}
	return s.c
}

// Acquire takes a unit, waiting as long as it takes. It returns nil, or
// ErrOwnerDead with a unit that a dead holder left. After Close it returns
// ErrSyncClosed.
func (s *Semaphore) Acquire() error {
	_, err := s.core().acquire(context.Background(), time.Time{})
	return err
}

// AcquireTimeout takes a unit, waiting at most d, and reports whether it
// did; a d of zero or less tries once. The error is as for Acquire.
func (s *Semaphore) AcquireTimeout(d time.Duration) (bool, error) {
	return s.core().acquire(context.Background(), deadline(d))
}

// AcquireContext takes a unit, waiting until ctx is done; it then returns
// ctx's error. The other errors are as for Acquire.
func (s *Semaphore) AcquireContext(ctx context.Context) error {
	_, err := s.core().acquire(ctx, time.Time{})
	return err
}

// Release adds a unit, waking a waiter. A bounded semaphore at its initial
// value, or any at MaxSemaphoreValue, returns ErrTooManyReleases.
func (s *Semaphore) Release() error {
	c := s.core()
	defer runtime.KeepAlive(c)
	if c.obj.closed.Load() {
		return ErrSyncClosed
	}
	if err := c.s.Release(); err != nil {
		return ErrTooManyReleases
	}
	return nil
}

// Value returns the number of units free. Units held by a process that
// died count once an Acquire has given them back.
func (s *Semaphore) Value() int {
	c := s.core()
	defer runtime.KeepAlive(c)
	return c.s.Value()
}

// Close releases this process's hold on the semaphore: the units it holds
// are used up, as at a child's exit, and goroutines of this process
// waiting in Acquire return ErrSyncClosed, as does every later use here.
// Other processes keep their holds. A second Close returns nil.
func (s *Semaphore) Close() error { return s.core().obj.Close() }

// passSet returns the Set of s's segment, for Start to pass to a child.
func (s *Semaphore) passSet() (*handles.Set, error) { return s.core().obj.passSet() }

// MarshalBinary encodes s's identity, so that Start can carry s into a
// child; the encoding decodes only in a process that holds s (one it was
// passed to, or this one), else with ErrNotPassable.
func (s *Semaphore) MarshalBinary() ([]byte, error) { return marshalSyncObj(s.core().obj) }

// UnmarshalBinary is MarshalBinary's inverse, in the child.
func (s *Semaphore) UnmarshalBinary(b []byte) error {
	o, err := decodeSyncObj(b, kindSemaphore, newSemCore)
	if err != nil {
		return err
	}
	s.c = o.core.(*semCore)
	return nil
}

func (c *semCore) acquire(ctx context.Context, deadline time.Time) (bool, error) {
	defer runtime.KeepAlive(c)
	if c.obj.closed.Load() {
		return false, ErrSyncClosed
	}
	wctx, stop := c.obj.waitCtx(ctx)
	recovered, err := c.s.Acquire(wctx, deadline)
	stop()
	if err != nil {
		return false, c.obj.waitError(ctx, err)
	}
	if recovered {
		return true, ErrOwnerDead
	}
	return true, nil
}
