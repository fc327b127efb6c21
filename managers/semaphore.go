package managers

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Semaphore is a proxy of a semaphore that a manager's server holds:
// Python's manager.Semaphore() or BoundedSemaphore(), threading's in the
// server. Acquire takes a unit, waiting for one; Release gives one back.
// As in Python, units have no owner: any process may release, and the
// units of a process that ends are not given back. A waiting Acquire is
// cancelled in the server if its process ends or its context does. A
// Semaphore is safe for concurrent use and crosses into other processes as
// a Dict does.
type Semaphore struct{ r *ref }

// NewSemaphore creates a semaphore of value units in m's server and
// returns its proxy.
func NewSemaphore(m *Manager, value int, opts ...CreateOption) (*Semaphore, error) {
	return newSemaphore(m, typeSemaphore, value, opts)
}

// NewBoundedSemaphore creates a semaphore whose Release fails, with an
// error wrapping ErrTooManyReleases, once it has value units again.
func NewBoundedSemaphore(m *Manager, value int, opts ...CreateOption) (*Semaphore, error) {
	return newSemaphore(m, typeBoundedSemaphore, value, opts)
}

func newSemaphore(m *Manager, typeid string, value int, opts []CreateOption) (*Semaphore, error) {
	if value < 0 {
		return nil, fmt.Errorf("mp: a semaphore's value must be zero or more, not %d", value)
	}
	r, err := create(m, typeid, createName(opts), []int64{int64(value)})
	if err != nil {
		return nil, err
	}
	return &Semaphore{r}, nil
}

// Acquire takes a unit, waiting as long as it takes.
func (s *Semaphore) Acquire() error {
	_, err := s.acquire(context.Background(), forever)
	return err
}

// AcquireTimeout takes a unit, waiting at most d (zero or less: not at
// all), and reports whether it did.
func (s *Semaphore) AcquireTimeout(d time.Duration) (bool, error) {
	return s.acquire(context.Background(), timeoutArg(d))
}

// AcquireContext takes a unit, waiting until ctx ends; it then returns
// ctx's error.
func (s *Semaphore) AcquireContext(ctx context.Context) error {
	_, err := s.acquire(ctx, forever)
	return err
}

func (s *Semaphore) acquire(ctx context.Context, timeout int64) (bool, error) {
	resp, err := s.r.callContext(ctx, "acquire", []int64{timeout})
	if err != nil {
		return false, err
	}
	n, err := oneInt(resp)
	return n == 1, err
}

// Release gives a unit back.
func (s *Semaphore) Release() error {
	_, err := s.r.call("release", nil)
	return err
}

// Value returns the number of units free.
func (s *Semaphore) Value() (int, error) {
	resp, err := s.r.call("value", nil)
	if err != nil {
		return 0, err
	}
	n, err := oneInt(resp)
	return int(n), err
}

// Close lets go of the semaphore; see Dict.Close.
func (s *Semaphore) Close() error { return s.r.close() }

// String describes the proxy, as Python's repr of a proxy does.
func (s *Semaphore) String() string { return s.r.String() }

// MarshalBinary encodes the proxy, so that it crosses into another
// process.
func (s *Semaphore) MarshalBinary() ([]byte, error) { return s.r.marshal() }

// UnmarshalBinary is MarshalBinary's inverse.
func (s *Semaphore) UnmarshalBinary(b []byte) error {
	r, err := unmarshalRef(b, "")
	if err != nil {
		return err
	}
	if r.typeid != typeSemaphore && r.typeid != typeBoundedSemaphore {
		return fmt.Errorf("%w: a proxy of a %s decoded as a Semaphore", ErrNotRegistered, r.typeid)
	}
	s.r = r
	return nil
}

// semaphoreObject is a semaphore in the server.
type semaphoreObject struct {
	mu      sync.Mutex
	sig     signal
	value   int64
	bound   int64 // 0: none
	typeid  string
	bounded bool
}

func newSemaphoreObject(bounded bool) func(ints []int64, vals [][]byte) (object, error) {
	return func(ints []int64, vals [][]byte) (object, error) {
		if len(ints) != 1 || len(vals) != 0 || ints[0] < 0 {
			return nil, badCall(typeSemaphore, "create")
		}
		s := &semaphoreObject{value: ints[0], typeid: typeSemaphore, bounded: bounded}
		if bounded {
			s.bound, s.typeid = ints[0], typeBoundedSemaphore
		}
		return s, nil
	}
}

func (s *semaphoreObject) call(c *call, method string, ints []int64, vals [][]byte) (*response, error) {
	if len(vals) != 0 {
		return nil, badCall(s.typeid, method)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch method {
	case "acquire":
		if len(ints) != 1 {
			return nil, badCall(s.typeid, method)
		}
		ok, err := waitUntil(c, &s.mu, &s.sig, time.Duration(ints[0]), func() bool { return s.value > 0 })
		if err != nil {
			return nil, err
		}
		if ok {
			s.value--
		}
		return &response{ints: []int64{boolInt(ok)}}, nil
	case "release":
		if s.bounded && s.value >= s.bound {
			return nil, errorf(ErrTooManyReleases, "semaphore released too many times")
		}
		s.value++
		s.sig.broadcast()
		return &response{}, nil
	case "value":
		return &response{ints: []int64{s.value}}, nil
	}
	return nil, unknownMethod(s.typeid, method)
}
