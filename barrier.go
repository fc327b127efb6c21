package mp

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/go-mp/mp/internal/handles"
	"github.com/go-mp/mp/internal/robust"
)

// Barrier makes a fixed number of parties wait for each other, like
// Python's multiprocessing.Barrier: each party calls Wait, and all return
// once the last arrives; the barrier can then be used again. A party is a
// call of Wait, by any goroutine of any process.
//
// A barrier breaks, and every Wait in it returns ErrBrokenBarrier, when a
// party calls Abort or Reset, when a party's wait times out or its context
// is done, or when a process dies with a party in the barrier (noticed by
// the others within about 0.1 s). A broken barrier stays broken, and Waits
// return ErrBrokenBarrier at once, until Reset.
//
// Python's action and default timeout are not kept: run the action in the
// party whose Wait returned index 0 (the others have then been released),
// and give each Wait its timeout. A Barrier crosses into children as a
// Lock does. The zero Barrier is not usable: create barriers with
// NewBarrier.
type Barrier struct {
	c *barrierCore
}

type barrierCore struct {
	obj *syncObj
	b   *robust.Barrier
}

func newBarrierCore(o *syncObj) any {
	return &barrierCore{obj: o, b: robust.NewBarrier(o.mem, 0, syncSlots)}
}

// NewBarrier returns a barrier for parties parties, at least 1.
func NewBarrier(parties int) (*Barrier, error) {
	if parties < 1 || parties > 1<<31-1 {
		return nil, fmt.Errorf("%w: a barrier of %d parties", ErrArgs, parties)
	}
	o, err := newSyncObj(kindBarrier, func(mem []byte) { robust.InitBarrier(mem, 0, parties) }, newBarrierCore)
	if err != nil {
		return nil, err
	}
	return &Barrier{c: o.core.(*barrierCore)}, nil
}

func (b *Barrier) core() *barrierCore {
	if b == nil || b.c == nil {
		panic("mp: use of a zero Barrier: create it with NewBarrier")
	}
	return b.c
}

// Wait waits until all parties wait, and returns the caller's arrival
// index: 0 for the first to arrive, Parties()-1 for the last, each once per
// round. It returns ErrBrokenBarrier if the barrier is broken or breaks
// meanwhile, and ErrSyncClosed after Close.
func (b *Barrier) Wait() (int, error) { return b.core().wait(context.Background(), time.Time{}) }

// WaitTimeout is Wait for at most d (zero or less: no wait); a timeout
// breaks the barrier, for every party, and returns ErrBrokenBarrier.
func (b *Barrier) WaitTimeout(d time.Duration) (int, error) {
	return b.core().wait(context.Background(), deadline(d))
}

// WaitContext is Wait until ctx is done; that breaks the barrier and
// returns an error that is both ErrBrokenBarrier and ctx's error.
func (b *Barrier) WaitContext(ctx context.Context) (int, error) {
	return b.core().wait(ctx, time.Time{})
}

// Abort breaks the barrier: the parties waiting, and those that come
// later, get ErrBrokenBarrier until Reset.
func (b *Barrier) Abort() error {
	c := b.core()
	defer runtime.KeepAlive(c)
	if c.obj.closed.Load() {
		return ErrSyncClosed
	}
	c.b.Abort()
	return nil
}

// Reset returns the barrier to its initial state; the parties waiting get
// ErrBrokenBarrier.
func (b *Barrier) Reset() error {
	c := b.core()
	defer runtime.KeepAlive(c)
	if c.obj.closed.Load() {
		return ErrSyncClosed
	}
	c.b.Reset()
	return nil
}

// Broken reports whether the barrier is broken.
func (b *Barrier) Broken() bool {
	c := b.core()
	defer runtime.KeepAlive(c)
	return c.b.Broken()
}

// Parties returns the number of parties.
func (b *Barrier) Parties() int {
	c := b.core()
	defer runtime.KeepAlive(c)
	return c.b.Parties()
}

// NWaiting returns the number of parties waiting in the barrier.
func (b *Barrier) NWaiting() int {
	c := b.core()
	defer runtime.KeepAlive(c)
	return c.b.NWaiting()
}

// Close releases this process's hold on the barrier; a party of this
// process waiting in it breaks it, for every party, and returns
// ErrSyncClosed. A second Close returns nil.
func (b *Barrier) Close() error { return b.core().obj.Close() }

// passSet returns the Set of b's segment, for Start to pass to a child.
func (b *Barrier) passSet() (*handles.Set, error) { return b.core().obj.passSet() }

// MarshalBinary encodes b's identity, so that Start can carry b into a
// child; the encoding decodes only in a process that holds b (one it was
// passed to, or this one), else with ErrNotPassable.
func (b *Barrier) MarshalBinary() ([]byte, error) { return marshalSyncObj(b.core().obj) }

// UnmarshalBinary is MarshalBinary's inverse, in the child.
func (b *Barrier) UnmarshalBinary(data []byte) error {
	o, err := decodeSyncObj(data, kindBarrier, newBarrierCore)
	if err != nil {
		return err
	}
	b.c = o.core.(*barrierCore)
	return nil
}

func (c *barrierCore) wait(ctx context.Context, deadline time.Time) (int, error) {
	defer runtime.KeepAlive(c)
	if c.obj.closed.Load() {
		return -1, ErrSyncClosed
	}
	wctx, stop := c.obj.waitCtx(ctx)
	i, err := c.b.Wait(wctx, deadline)
	stop()
	switch {
	case err == nil:
		return i, nil
	case errors.Is(err, robust.ErrBroken):
		return -1, ErrBrokenBarrier
	case err == robust.ErrTimeout:
		return -1, fmt.Errorf("%w: timed out", ErrBrokenBarrier)
	}
	if err = c.obj.waitError(ctx, err); err == ErrSyncClosed {
		return -1, err
	}
	return -1, fmt.Errorf("%w: %w", ErrBrokenBarrier, err)
}
