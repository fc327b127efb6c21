package mp

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"time"

	"github.com/go-mp/mp/internal/handles"
	"github.com/go-mp/mp/internal/robust"
	"github.com/go-mp/mp/internal/wire"
)

// Condition is a condition variable that processes share, like Python's
// multiprocessing.Condition: goroutines that hold its lock Wait until
// another Notifies them. Its lock is a Lock or an RLock (by default a new
// RLock); the Condition's Acquire, Release, Lock and Unlock are the lock's.
//
// Notify(n) wakes up to n waiters of processes that are alive: a waiter
// whose process died is never counted, so a notification is never wasted
// on it (a waiter that dies after being notified, before it wakes, takes
// its notification with it). A waiter is woken at most once per
// notification, and may wake, as with any condition variable, to find the
// state changed again: wait in a loop, or with WaitFor. Which waiters wake
// is not first come, first served: Notify goes round the waiting processes
// in turn.
//
// A Condition crosses into children as a Lock does, bringing its lock,
// which is the same lock there as a Lock passed beside it. The zero
// Condition is not usable: create conditions with NewCondition.
type Condition struct {
	c *condCore
}

type condCore struct {
	obj  *syncObj
	cv   *robust.Cond
	lock SharedLock
	lc   *lockCore
	own  bool // the lock was made by NewCondition: Close closes it too
}

func newCondCore(lock SharedLock, own bool) func(o *syncObj) any {
	return func(o *syncObj) any {
		c := &condCore{obj: o, cv: robust.NewCond(o.mem, 0, syncSlots), lock: lock, lc: lock.lockCore(), own: own}
		if own {
			o.onClose = func() { _ = lock.Close() }
		}
		return c
	}
}

// NewCondition returns a Condition on lock, a *Lock or an *RLock; nil
// makes a new RLock, which Close then closes too.
func NewCondition(lock SharedLock) (*Condition, error) {
	own := false
	if lock == nil {
		l, err := NewRLock()
		if err != nil {
			return nil, err
		}
		lock, own = l, true
	}
	lock.lockCore() // a zero lock panics here
	o, err := newSyncObj(kindCondition, nil, newCondCore(lock, own))
	if err != nil {
		if own {
			_ = lock.Close()
		}
		return nil, err
	}
	// One Set carries both segments into a child.
	o.pass = handles.New(o.seg.File(), lock.lockCore().obj.seg.File())
	return &Condition{c: o.core.(*condCore)}, nil
}

func (c *Condition) core() *condCore {
	if c == nil || c.c == nil {
		panic("mp: use of a zero Condition: create it with NewCondition")
	}
	return c.c
}

// Locker returns the condition's lock.
func (c *Condition) Locker() SharedLock { return c.core().lock }

// Acquire acquires the condition's lock; see Lock.Acquire.
func (c *Condition) Acquire() error { return c.core().lock.Acquire() }

// AcquireTimeout acquires the condition's lock, waiting at most d; see
// Lock.AcquireTimeout.
func (c *Condition) AcquireTimeout(d time.Duration) (bool, error) {
	return c.core().lock.AcquireTimeout(d)
}

// AcquireContext acquires the condition's lock, waiting until ctx is done;
// see Lock.AcquireContext.
func (c *Condition) AcquireContext(ctx context.Context) error {
	return c.core().lock.AcquireContext(ctx)
}

// Release releases the condition's lock; see Lock.Release.
func (c *Condition) Release() error { return c.core().lock.Release() }

// Lock acquires the condition's lock, for sync.Locker.
func (c *Condition) Lock() { c.core().lock.Lock() }

// Unlock releases the condition's lock, for sync.Locker.
func (c *Condition) Unlock() { c.core().lock.Unlock() }

// Wait releases the lock, which the caller must hold (else ErrNotOwner),
// waits until notified, and takes the lock back (an RLock at the depth it
// had) before it returns, whatever happened meanwhile, but for Close. It
// returns ErrOwnerDead if, taking the lock back, it took it over from a
// holder that died, and ErrSyncClosed, without the lock, if Close (of the
// condition, or of its lock) ended it.
func (c *Condition) Wait() error {
	_, err := c.core().wait(context.Background(), time.Time{})
	return err
}

// WaitTimeout is Wait for at most d, and reports whether it was notified;
// a d of zero or less does not wait, but still releases and takes back the
// lock (so that a notification already given is taken).
func (c *Condition) WaitTimeout(d time.Duration) (bool, error) {
	return c.core().wait(context.Background(), deadline(d))
}

// WaitContext is Wait until ctx is done; it then returns ctx's error,
// holding the lock again.
func (c *Condition) WaitContext(ctx context.Context) error {
	_, err := c.core().wait(ctx, time.Time{})
	return err
}

// WaitFor waits until pred returns true, for at most timeout (zero or
// less: pred is only called once), and returns pred's last result. The
// caller holds the lock, and pred is called with it held. An error of Wait
// ends it.
func (c *Condition) WaitFor(pred func() bool, timeout time.Duration) (bool, error) {
	return c.core().waitFor(context.Background(), pred, deadline(timeout))
}

// WaitForContext waits until pred returns true or ctx is done, and returns
// pred's last result with ctx's error in the second case.
func (c *Condition) WaitForContext(ctx context.Context, pred func() bool) (bool, error) {
	return c.core().waitFor(ctx, pred, time.Time{})
}

// Notify wakes up to n goroutines waiting on the condition, in any
// process; the caller must hold the lock (else ErrNotOwner). Waiters in
// processes that have died are not counted.
func (c *Condition) Notify(n int) error {
	cc := c.core()
	defer runtime.KeepAlive(cc)
	if cc.obj.closed.Load() {
		return ErrSyncClosed
	}
	if !cc.lc.held() {
		return fmt.Errorf("%w: Notify without the condition's lock", ErrNotOwner)
	}
	cc.cv.Notify(n)
	return nil
}

// NotifyAll wakes every goroutine waiting on the condition; see Notify.
func (c *Condition) NotifyAll() error { return c.Notify(math.MaxInt) }

// Close releases this process's hold on the condition (and on its lock,
// if NewCondition made it); goroutines of this process waiting on it
// return ErrSyncClosed. A second Close returns nil.
func (c *Condition) Close() error { return c.core().obj.Close() }

// passSet returns the Set of c's segment and its lock's, for Start to pass
// to a child.
func (c *Condition) passSet() (*handles.Set, error) {
	cc := c.core()
	if _, err := cc.lc.obj.passSet(); err != nil {
		return nil, err
	}
	return cc.obj.passSet()
}

// MarshalBinary encodes c's identity and its lock's, so that Start can
// carry c into a child, with its lock. The encoding decodes only in a
// process that holds c.
func (c *Condition) MarshalBinary() ([]byte, error) {
	set, err := c.passSet()
	if err != nil {
		return nil, err
	}
	cc := c.core()
	w := &wire.Writer{}
	writeSyncObj(w, cc.obj, set)
	w.Byte(byte(cc.lc.obj.kind))
	w.Raw(cc.lc.obj.id[:])
	return w.B, nil
}

// UnmarshalBinary is MarshalBinary's inverse, in the child.
func (c *Condition) UnmarshalBinary(b []byte) error {
	d := wire.NewReader(b)
	id, setID, err := readSyncHead(d, kindCondition)
	if err != nil {
		return err
	}
	lockKind := syncKind(d.Byte())
	var lockID [16]byte
	copy(lockID[:], d.Raw(16))
	if err := d.End(); err != nil {
		return err
	}
	if lockKind != kindLock && lockKind != kindRLock {
		return fmt.Errorf("%w: a Condition's lock is a %s", ErrBadMessage, lockKind)
	}
	syncObjs.Lock()
	defer syncObjs.Unlock()
	lo, co := findSyncObj(lockID, lockKind), findSyncObj(id, kindCondition)
	var set *handles.Set
	if lo == nil || co == nil {
		if set, err = heldSet(setID, 2, "Condition"); err != nil {
			return err
		}
	}
	if lo == nil {
		// The lock's own Set, for passing it on alone.
		lo, err = attachSyncObj(lockID, lockKind, set.Files[1], handles.New(set.Files[1]), newLockCore(lockKind == kindRLock))
		if err != nil {
			return err
		}
	}
	if co == nil {
		var lock SharedLock = &Lock{c: lo.core.(*lockCore)}
		if lockKind == kindRLock {
			lock = &RLock{c: lo.core.(*lockCore)}
		}
		if co, err = attachSyncObj(id, kindCondition, set.Files[0], set, newCondCore(lock, false)); err != nil {
			return err
		}
	}
	c.c = co.core.(*condCore)
	return nil
}

func (c *condCore) wait(ctx context.Context, deadline time.Time) (bool, error) {
	defer runtime.KeepAlive(c)
	if c.obj.closed.Load() {
		return false, ErrSyncClosed
	}
	if !c.lc.held() {
		return false, fmt.Errorf("%w: Wait without the condition's lock", ErrNotOwner)
	}
	if err := c.cv.Enter(); err != nil {
		return false, c.obj.waitError(ctx, err)
	}
	depth := c.lc.releaseAll()
	wctx, stop := c.obj.waitCtx(ctx)
	err := c.cv.Wait(wctx, deadline)
	stop()
	if err != nil && c.obj.closed.Load() {
		return false, ErrSyncClosed // without the lock: Close is the end
	}
	if rerr := c.lc.restore(depth); rerr != nil {
		return err == nil, rerr
	}
	if err != nil {
		return false, c.obj.waitError(ctx, err)
	}
	return true, nil
}

func (c *condCore) waitFor(ctx context.Context, pred func() bool, deadline time.Time) (bool, error) {
	for {
		if pred() {
			return true, nil
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return false, nil
		}
		if _, err := c.wait(ctx, deadline); err != nil {
			return pred(), err
		}
	}
}
