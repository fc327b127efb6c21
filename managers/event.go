package managers

import (
	"context"
	"sync"
	"time"
)

// Event is a proxy of an event that a manager's server holds: Python's
// manager.Event(), a threading.Event in the server: a flag that Set sets
// and Clear clears, and that Wait waits for. A waiting Wait waits in the
// server, and is cancelled there if its process ends or its context does.
// An Event is safe for concurrent use and crosses into other processes as
// a Dict does.
type Event struct{ r *ref }

// NewEvent creates a cleared event in m's server and returns its proxy.
func NewEvent(m *Manager, opts ...CreateOption) (*Event, error) {
	r, err := create(m, typeEvent, createName(opts), nil)
	if err != nil {
		return nil, err
	}
	return &Event{r}, nil
}

// Set sets the flag, waking every Wait.
func (e *Event) Set() error {
	_, err := e.r.call("set", nil)
	return err
}

// Clear clears the flag.
func (e *Event) Clear() error {
	_, err := e.r.call("clear", nil)
	return err
}

// IsSet reports whether the flag is set.
func (e *Event) IsSet() (bool, error) { return e.wait(context.Background(), 0) }

// Wait waits until the flag is set.
func (e *Event) Wait() error {
	_, err := e.wait(context.Background(), forever)
	return err
}

// WaitTimeout waits at most d until the flag is set, and reports whether
// it is.
func (e *Event) WaitTimeout(d time.Duration) (bool, error) {
	return e.wait(context.Background(), timeoutArg(d))
}

// WaitContext waits until the flag is set or ctx ends; it then returns
// ctx's error.
func (e *Event) WaitContext(ctx context.Context) error {
	_, err := e.wait(ctx, forever)
	return err
}

func (e *Event) wait(ctx context.Context, timeout int64) (bool, error) {
	resp, err := e.r.callContext(ctx, "wait", []int64{timeout})
	if err != nil {
		return false, err
	}
	n, err := oneInt(resp)
	return n == 1, err
}

// Close lets go of the event; see Dict.Close.
func (e *Event) Close() error { return e.r.close() }

// String describes the proxy, as Python's repr of a proxy does.
func (e *Event) String() string { return e.r.String() }

// MarshalBinary encodes the proxy, so that it crosses into another
// process.
func (e *Event) MarshalBinary() ([]byte, error) { return e.r.marshal() }

// UnmarshalBinary is MarshalBinary's inverse.
func (e *Event) UnmarshalBinary(b []byte) error {
	r, err := unmarshalRef(b, typeEvent)
	if err != nil {
		return err
	}
	e.r = r
	return nil
}

// eventObject is an event in the server.
type eventObject struct {
	mu  sync.Mutex
	sig signal
	set bool
}

func newEventObject(ints []int64, vals [][]byte) (object, error) {
	if len(ints) != 0 || len(vals) != 0 {
		return nil, badCall(typeEvent, "create")
	}
	return &eventObject{}, nil
}

func (e *eventObject) call(c *call, method string, ints []int64, vals [][]byte) (*response, error) {
	if len(vals) != 0 {
		return nil, badCall(typeEvent, method)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch method {
	case "set":
		e.set = true
		e.sig.broadcast()
		return &response{}, nil
	case "clear":
		e.set = false
		return &response{}, nil
	case "wait":
		if len(ints) != 1 {
			return nil, badCall(typeEvent, method)
		}
		ok, err := waitUntil(c, &e.mu, &e.sig, time.Duration(ints[0]), func() bool { return e.set })
		if err != nil {
			return nil, err
		}
		return &response{ints: []int64{boolInt(ok)}}, nil
	}
	return nil, unknownMethod(typeEvent, method)
}
