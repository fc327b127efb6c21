package mp

import (
	"context"
	"runtime"
	"time"

	"github.com/go-mp/mp/internal/handles"
	"github.com/go-mp/mp/internal/robust"
)

// Event is a flag that processes share, like Python's
// multiprocessing.Event: Set sets it and wakes every waiter, Clear clears
// it, and Wait waits until it is set. It has no holder, so a process that
// dies leaves nothing behind. Setting it happens before every Wait that
// returns because of it.
//
// An Event crosses into children as a Lock does. The zero Event is not
// usable: create events with NewEvent.
type Event struct {
	c *eventCore
}

type eventCore struct {
	obj *syncObj
	e   *robust.Event
}

func newEventCore(o *syncObj) any { return &eventCore{obj: o, e: robust.NewEvent(o.mem, 0)} }

// NewEvent returns a new Event, not set.
func NewEvent() (*Event, error) {
	o, err := newSyncObj(kindEvent, nil, newEventCore)
	if err != nil {
		return nil, err
	}
	return &Event{c: o.core.(*eventCore)}, nil
}

func (e *Event) core() *eventCore {
	if e == nil || e.c == nil {
		panic("mp: use of a zero Event: create it with NewEvent")
	}
	return e.c
}

// Set sets the flag and wakes every goroutine waiting for it, in every
// process. After Close it returns ErrSyncClosed.
func (e *Event) Set() error {
	c := e.core()
	defer runtime.KeepAlive(c)
	if c.obj.closed.Load() {
		return ErrSyncClosed
	}
	c.e.Set()
	return nil
}

// Clear clears the flag. After Close it returns ErrSyncClosed.
func (e *Event) Clear() error {
	c := e.core()
	defer runtime.KeepAlive(c)
	if c.obj.closed.Load() {
		return ErrSyncClosed
	}
	c.e.Clear()
	return nil
}

// IsSet reports whether the flag is set.
func (e *Event) IsSet() bool {
	c := e.core()
	defer runtime.KeepAlive(c)
	return c.e.IsSet()
}

// Wait waits until the flag is set. After Close it returns ErrSyncClosed.
func (e *Event) Wait() error {
	_, err := e.core().wait(context.Background(), time.Time{})
	return err
}

// WaitTimeout waits at most d until the flag is set, and reports whether
// it is; a d of zero or less looks without waiting.
func (e *Event) WaitTimeout(d time.Duration) (bool, error) {
	return e.core().wait(context.Background(), deadline(d))
}

// WaitContext waits until the flag is set or ctx is done; it then returns
// ctx's error.
func (e *Event) WaitContext(ctx context.Context) error {
	_, err := e.core().wait(ctx, time.Time{})
	return err
}

// Close releases this process's hold on the event; goroutines of this
// process waiting for it return ErrSyncClosed, as does every later use
// here but IsSet. A second Close returns nil.
func (e *Event) Close() error { return e.core().obj.Close() }

// passSet returns the Set of e's segment, for Start to pass to a child.
func (e *Event) passSet() (*handles.Set, error) { return e.core().obj.passSet() }

// MarshalBinary encodes e's identity, so that Start can carry e into a
// child; the encoding decodes only in a process that holds e (one it was
// passed to, or this one), else with ErrNotPassable.
func (e *Event) MarshalBinary() ([]byte, error) { return marshalSyncObj(e.core().obj) }

// UnmarshalBinary is MarshalBinary's inverse, in the child.
func (e *Event) UnmarshalBinary(b []byte) error {
	o, err := decodeSyncObj(b, kindEvent, newEventCore)
	if err != nil {
		return err
	}
	e.c = o.core.(*eventCore)
	return nil
}

func (c *eventCore) wait(ctx context.Context, deadline time.Time) (bool, error) {
	defer runtime.KeepAlive(c)
	if c.obj.closed.Load() {
		return false, ErrSyncClosed
	}
	if c.e.IsSet() {
		return true, nil
	}
	wctx, stop := c.obj.waitCtx(ctx)
	err := c.e.Wait(wctx, deadline)
	stop()
	if err != nil {
		return false, c.obj.waitError(ctx, err)
	}
	return true, nil
}
