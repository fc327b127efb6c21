package robust

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// ErrStopped is returned by Gate.Lock when its stop channel is closed.
var ErrStopped = errors.New("mp: stopped")

// Gate is a process-local lock that can be waited for with a deadline, a
// context and a stop channel: a sync.Mutex taken with TryLock, and a token
// channel on which goroutines that found it held wait. Taking a free Gate
// costs what a sync.Mutex does (a channel send and receive cost twice as
// much, measured). Mutex puts one in front of its shared word; a queue
// lets one goroutine per process read at a time with another.
type Gate struct {
	mu      sync.Mutex
	waiters atomic.Int32
	token   chan struct{} // a token after an unlock that saw waiters
}

// NewGate returns an unlocked Gate.
func NewGate() *Gate { return &Gate{token: make(chan struct{}, 1)} }

// TryLock takes the gate if it is free, and reports whether it did.
func (g *Gate) TryLock() bool { return g.mu.TryLock() }

// Lock takes the gate, waiting until deadline (zero: none), ctx is done
// (its error) or stop is closed (ErrStopped; stop may be nil). It returns
// ErrTimeout when the deadline passes.
func (g *Gate) Lock(ctx context.Context, deadline time.Time, stop <-chan struct{}) error {
	if g.mu.TryLock() {
		return nil
	}
	g.waiters.Add(1)
	defer g.waiters.Add(-1)
	var timeout <-chan time.Time
	for {
		// Each token is an unlock since the waiter counted itself, so a
		// look after taking one, or after counting, misses no unlock.
		if g.mu.TryLock() {
			return nil
		}
		if timeout == nil && !deadline.IsZero() {
			d := time.Until(deadline)
			if d <= 0 {
				return ErrTimeout
			}
			t := time.NewTimer(d)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-g.token:
		case <-timeout:
			return ErrTimeout
		case <-ctx.Done():
			return ctx.Err()
		case <-stop:
			return ErrStopped
		}
	}
}

// Unlock releases the gate; any goroutine may.
func (g *Gate) Unlock() {
	g.mu.Unlock()
	if g.waiters.Load() > 0 {
		select {
		case g.token <- struct{}{}:
		default: // a token already waits
		}
	}
}
