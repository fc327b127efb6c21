package robust

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// gate is a process-local lock that can be waited for with a deadline: a
// sync.Mutex taken with TryLock, and a token channel on which goroutines
// that found it held wait. Taking a free gate costs what a sync.Mutex does
// (a channel send and receive cost twice as much, measured).
type gate struct {
	mu      sync.Mutex
	waiters atomic.Int32
	token   chan struct{} // a token after an unlock that saw waiters
}

func newGate() *gate { return &gate{token: make(chan struct{}, 1)} }

// lock takes the gate, waiting until deadline (zero: none) or ctx is done.
func (g *gate) lock(ctx context.Context, deadline time.Time) error {
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
		}
	}
}

func (g *gate) unlock() {
	g.mu.Unlock()
	if g.waiters.Load() > 0 {
		select {
		case g.token <- struct{}{}:
		default: // a token already waits
		}
	}
}
