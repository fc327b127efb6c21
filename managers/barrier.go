package managers

import (
	"context"
	"sync"
	"time"
)

// Barrier is a proxy of a barrier that a manager's server holds: Python's
// manager.Barrier(parties), a threading.Barrier in the server. Wait
// waits until parties callers wait, then lets them all go. A Wait that
// times out, whose context ends, or whose process ends while it waits,
// breaks the barrier, as does Abort: every Wait then returns an error
// wrapping ErrBrokenBarrier until Reset. A Barrier is safe for concurrent
// use and crosses into other processes as a Dict does.
type Barrier struct{ r *ref }

// NewBarrier creates a barrier for parties callers (at least 1) in m's
// server and returns its proxy. Python's action argument has no
// counterpart: run it in the caller whose Wait returns parties-1, the
// last to arrive.
func NewBarrier(m *Manager, parties int, opts ...CreateOption) (*Barrier, error) {
	r, err := create(m, typeBarrier, createName(opts), []int64{int64(parties)})
	if err != nil {
		return nil, err
	}
	return &Barrier{r}, nil
}

// Wait waits until parties callers wait, and returns this caller's index,
// as Python's does: 0 for the first to arrive, parties-1 for the last.
func (b *Barrier) Wait() (int, error) { return b.wait(context.Background(), forever) }

// WaitTimeout is Wait that waits at most d; a Wait that runs out breaks
// the barrier and returns an error wrapping ErrBrokenBarrier.
func (b *Barrier) WaitTimeout(d time.Duration) (int, error) {
	return b.wait(context.Background(), int64(max(d, 1)))
}

// WaitContext is Wait that gives up when ctx ends, breaking the barrier;
// it then returns ctx's error.
func (b *Barrier) WaitContext(ctx context.Context) (int, error) { return b.wait(ctx, forever) }

func (b *Barrier) wait(ctx context.Context, timeout int64) (int, error) {
	resp, err := b.r.callContext(ctx, "wait", []int64{timeout})
	if err != nil {
		return 0, err
	}
	n, err := oneInt(resp)
	return int(n), err
}

// Abort breaks the barrier: the callers waiting, and every later Wait
// until Reset, get an error wrapping ErrBrokenBarrier.
func (b *Barrier) Abort() error {
	_, err := b.r.call("abort", nil)
	return err
}

// Reset returns the barrier to its first state; callers waiting get an
// error wrapping ErrBrokenBarrier.
func (b *Barrier) Reset() error {
	_, err := b.r.call("reset", nil)
	return err
}

// Broken reports whether the barrier is broken.
func (b *Barrier) Broken() (bool, error) {
	n, err := b.number("broken")
	return n == 1, err
}

// Parties returns the number of callers the barrier waits for.
func (b *Barrier) Parties() (int, error) { return b.number("parties") }

// NWaiting returns the number of callers waiting.
func (b *Barrier) NWaiting() (int, error) { return b.number("n_waiting") }

func (b *Barrier) number(method string) (int, error) {
	resp, err := b.r.call(method, nil)
	if err != nil {
		return 0, err
	}
	n, err := oneInt(resp)
	return int(n), err
}

// Close lets go of the barrier; see Dict.Close.
func (b *Barrier) Close() error { return b.r.close() }

// String describes the proxy, as Python's repr of a proxy does.
func (b *Barrier) String() string { return b.r.String() }

// MarshalBinary encodes the proxy, so that it crosses into another
// process.
func (b *Barrier) MarshalBinary() ([]byte, error) { return b.r.marshal() }

// UnmarshalBinary is MarshalBinary's inverse.
func (b *Barrier) UnmarshalBinary(data []byte) error {
	r, err := unmarshalRef(data, typeBarrier)
	if err != nil {
		return err
	}
	b.r = r
	return nil
}

// barrierObject is a barrier in the server. Each round of waiters shares
// a generation, which is let through, or broken.
type barrierObject struct {
	mu      sync.Mutex
	sig     signal
	parties int
	count   int // waiting in cur
	cur     *barrierGen
}

type barrierGen struct{ passed, broken bool }

func newBarrierObject(ints []int64, vals [][]byte) (object, error) {
	if len(ints) != 1 || len(vals) != 0 || ints[0] < 1 || ints[0] > 1<<30 {
		return nil, badCall(typeBarrier, "create")
	}
	return &barrierObject{parties: int(ints[0]), cur: &barrierGen{}}, nil
}

func (b *barrierObject) call(c *call, method string, ints []int64, vals [][]byte) (*response, error) {
	if len(vals) != 0 {
		return nil, badCall(typeBarrier, method)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch method {
	case "wait":
		if len(ints) != 1 {
			return nil, badCall(typeBarrier, method)
		}
		g := b.cur
		if g.broken {
			return nil, errorf(ErrBrokenBarrier, "the barrier is broken")
		}
		index := b.count
		b.count++
		if b.count == b.parties {
			g.passed = true
			b.cur, b.count = &barrierGen{}, 0
			b.sig.broadcast()
			return &response{ints: []int64{int64(index)}}, nil
		}
		_, err := waitUntil(c, &b.mu, &b.sig, time.Duration(ints[0]), func() bool { return g.passed || g.broken })
		switch {
		case g.passed:
			return &response{ints: []int64{int64(index)}}, nil
		case !g.broken:
			// This waiter ran out of time, or went away: the others
			// would wait for ever.
			b.breakLocked()
		}
		if err != nil {
			return nil, err
		}
		return nil, errorf(ErrBrokenBarrier, "the barrier is broken")
	case "abort":
		b.breakLocked()
		return &response{}, nil
	case "reset":
		if b.count > 0 || b.cur.broken {
			b.cur.broken = true
			b.cur, b.count = &barrierGen{}, 0
			b.sig.broadcast()
		}
		return &response{}, nil
	case "broken":
		return &response{ints: []int64{boolInt(b.cur.broken)}}, nil
	case "parties":
		return &response{ints: []int64{int64(b.parties)}}, nil
	case "n_waiting":
		return &response{ints: []int64{int64(b.count)}}, nil
	}
	return nil, unknownMethod(typeBarrier, method)
}

func (b *barrierObject) breakLocked() {
	b.cur.broken = true
	b.count = 0
	b.sig.broadcast()
}
