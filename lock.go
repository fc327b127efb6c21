package mp

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/go-mp/mp/internal/handles"
	"github.com/go-mp/mp/internal/robust"
)

// Lock is a lock that processes share, like Python's
// multiprocessing.Lock, that survives its holder's death: if the process
// holding it dies (killed by SIGKILL at any instant, crashed, or returned
// from its target still holding it), the next Acquire takes it over within
// about 0.1 s and returns ErrOwnerDead, holding the lock.
//
// A Lock is held by a process, not a goroutine, as a sync.Mutex is held
// by no goroutine in particular: goroutines of one process exclude each
// other, and any goroutine of the holding process may Release it. Release
// by a process that does not hold it returns ErrNotOwner; Python would let
// any process release a Lock, as a semaphore, but a lock that must survive
// its holder's death needs to know its holder: use a Semaphore of one unit
// to hand a unit from process to process.
//
// Taking and releasing a free Lock is one atomic compare-and-swap each in
// shared memory, with no system call; a goroutine that finds it held spins
// briefly, then sleeps in the kernel (a futex on Linux; elsewhere it looks
// again, backing off to 1 ms).
//
// A Lock is given to a child as an argument of a Process or a field of a
// Runner, under either start method, and can be passed on from there.
// Lock satisfies sync.Locker. The zero Lock is not usable: create locks
// with NewLock.
type Lock struct {
	c *lockCore
}

// RLock is a recursive lock that processes share, like Python's
// multiprocessing.RLock: the goroutine that holds it may acquire it again,
// and must release it as many times.
//
// An RLock is held by a goroutine of a process (Python's owner is a thread
// of a process): other goroutines, in this process or another, wait for
// it, and Release by a goroutine that does not hold it returns
// ErrNotOwner. Goroutines are told apart by the runtime's goroutine ID.
//
// Like a Lock, an RLock whose holder dies is taken over by the next
// Acquire, which returns ErrOwnerDead holding it (once); it crosses into
// children the same way and satisfies sync.Locker. The zero RLock is not
// usable: create locks with NewRLock.
type RLock struct {
	c *lockCore
}

// SharedLock is a lock that processes share: a *Lock or an *RLock, the
// locks a Condition can use.
type SharedLock interface {
	sync.Locker
	Acquire() error
	AcquireTimeout(d time.Duration) (bool, error)
	AcquireContext(ctx context.Context) error
	Release() error
	Locked() bool
	Close() error
	lockCore() *lockCore
}

var (
	_ SharedLock = (*Lock)(nil)
	_ SharedLock = (*RLock)(nil)
)

// lockCore is a process's half of a Lock or RLock.
type lockCore struct {
	obj       *syncObj
	m         *robust.Mutex
	recursive bool

	// An RLock's holder in this process and its depth; count is touched
	// only by the holder.
	owner goroutineOwner
	count int
}

func newLockCore(recursive bool) func(o *syncObj) any {
	return func(o *syncObj) any {
		c := &lockCore{obj: o, m: robust.NewMutex(o.mem, 0), recursive: recursive}
		o.onClose = c.closeHeld
		return c
	}
}

// NewLock returns a new, unlocked Lock.
func NewLock() (*Lock, error) {
	o, err := newSyncObj(kindLock, nil, newLockCore(false))
	if err != nil {
		return nil, err
	}
	return &Lock{c: o.core.(*lockCore)}, nil
}

// NewRLock returns a new, unlocked RLock.
func NewRLock() (*RLock, error) {
	o, err := newSyncObj(kindRLock, nil, newLockCore(true))
	if err != nil {
		return nil, err
	}
	return &RLock{c: o.core.(*lockCore)}, nil
}

func (l *Lock) core() *lockCore {
	if l == nil || l.c == nil {
		panic("mp: use of a zero Lock: create it with NewLock")
	}
	return l.c
}

func (l *RLock) core() *lockCore {
	if l == nil || l.c == nil {
		panic("mp: use of a zero RLock: create it with NewRLock")
	}
	return l.c
}

func (l *Lock) lockCore() *lockCore  { return l.core() }
func (l *RLock) lockCore() *lockCore { return l.core() }

// Acquire takes the lock, waiting as long as it takes. It returns nil, or
// ErrOwnerDead when it took the lock over from a holder that died: the
// lock is held either way. After Close it returns ErrSyncClosed.
func (l *Lock) Acquire() error {
	c := l.core()
	if !c.obj.closed.Load() && c.m.TryLock() {
		runtime.KeepAlive(c)
		return nil
	}
	_, err := c.acquire(context.Background(), time.Time{})
	return err
}

// AcquireTimeout takes the lock, waiting at most d, and reports whether it
// did. A d of zero or less tries once without waiting (Python's
// acquire(False)); a lock whose holder is dead is taken over even then. The
// error is as for Acquire; with ErrOwnerDead, the result is true.
func (l *Lock) AcquireTimeout(d time.Duration) (bool, error) {
	c := l.core()
	if !c.obj.closed.Load() && c.m.TryLock() {
		runtime.KeepAlive(c)
		return true, nil
	}
	return c.acquire(context.Background(), deadline(d))
}

// AcquireContext takes the lock, waiting until ctx is done; it then returns
// ctx's error without the lock. The other errors are as for Acquire.
func (l *Lock) AcquireContext(ctx context.Context) error {
	_, err := l.core().acquire(ctx, time.Time{})
	return err
}

// Release releases the lock. It returns ErrTooManyReleases if no one holds
// it, and ErrNotOwner if another process holds it.
func (l *Lock) Release() error {
	c := l.core()
	if c.m.Unlock() {
		runtime.KeepAlive(c)
		return nil
	}
	return c.releaseError()
}

// Locked reports whether a process holds the lock.
func (l *Lock) Locked() bool { return l.core().locked() }

// Lock acquires the lock, for sync.Locker: it returns holding the lock,
// whether or not its previous holder died. It panics after Close.
func (l *Lock) Lock() { lockOrPanic(l.Acquire()) }

// Unlock releases the lock, for sync.Locker. It panics if the caller's
// process does not hold it, as sync.Mutex's Unlock of an unlocked mutex is
// a fatal error.
func (l *Lock) Unlock() { unlockOrPanic(l.Release()) }

// Close releases this process's hold on the lock: the lock itself, if
// this process holds it (waiters elsewhere take it as from any Release),
// and the shared memory's file. Goroutines of this process waiting for it
// return ErrSyncClosed, and so does every later use here. Other processes
// keep their holds. A second Close returns nil.
func (l *Lock) Close() error { return l.core().obj.Close() }

// passSet returns the Set of l's segment, for Start to pass to a child.
func (l *Lock) passSet() (*handles.Set, error) { return l.core().obj.passSet() }

// MarshalBinary encodes l's identity, so that Start can carry l into a
// child; the encoding decodes only in a process that holds l (one it was
// passed to, or this one), else with ErrNotPassable.
func (l *Lock) MarshalBinary() ([]byte, error) { return marshalSyncObj(l.core().obj) }

// UnmarshalBinary is MarshalBinary's inverse, in the child.
func (l *Lock) UnmarshalBinary(b []byte) error {
	o, err := decodeSyncObj(b, kindLock, newLockCore(false))
	if err != nil {
		return err
	}
	l.c = o.core.(*lockCore)
	return nil
}

// Acquire takes the lock, or takes it once more if the calling goroutine
// holds it. The errors are as for Lock.Acquire.
func (l *RLock) Acquire() error {
	_, err := l.core().acquire(context.Background(), time.Time{})
	return err
}

// AcquireTimeout takes the lock, waiting at most d, and reports whether it
// did; see Lock.AcquireTimeout.
func (l *RLock) AcquireTimeout(d time.Duration) (bool, error) {
	return l.core().acquire(context.Background(), deadline(d))
}

// AcquireContext takes the lock, waiting until ctx is done; see
// Lock.AcquireContext.
func (l *RLock) AcquireContext(ctx context.Context) error {
	_, err := l.core().acquire(ctx, time.Time{})
	return err
}

// Release releases the lock once; the goroutine holds it until it has
// released it as many times as it acquired it. It returns ErrNotOwner if
// another goroutine, here or in another process, holds it, and
// ErrTooManyReleases if no one does.
func (l *RLock) Release() error { return l.core().releaseRecursive() }

// Locked reports whether a goroutine of any process holds the lock.
func (l *RLock) Locked() bool { return l.core().locked() }

// Lock acquires the lock, for sync.Locker; see Lock.Lock.
func (l *RLock) Lock() { lockOrPanic(l.Acquire()) }

// Unlock releases the lock once, for sync.Locker. It panics if the calling
// goroutine does not hold it.
func (l *RLock) Unlock() { unlockOrPanic(l.Release()) }

// Close releases this process's hold on the lock, and the lock itself if a
// goroutine of this process holds it, at whatever depth; see Lock.Close.
func (l *RLock) Close() error { return l.core().obj.Close() }

// passSet returns the Set of l's segment, for Start to pass to a child.
func (l *RLock) passSet() (*handles.Set, error) { return l.core().obj.passSet() }

// MarshalBinary encodes l's identity, so that Start can carry l into a
// child; the encoding decodes only in a process that holds l (one it was
// passed to, or this one), else with ErrNotPassable.
func (l *RLock) MarshalBinary() ([]byte, error) { return marshalSyncObj(l.core().obj) }

// UnmarshalBinary is MarshalBinary's inverse, in the child.
func (l *RLock) UnmarshalBinary(b []byte) error {
	o, err := decodeSyncObj(b, kindRLock, newLockCore(true))
	if err != nil {
		return err
	}
	l.c = o.core.(*lockCore)
	return nil
}

func lockOrPanic(err error) {
	if err != nil && err != ErrOwnerDead {
		panic(err.Error())
	}
}

func unlockOrPanic(err error) {
	if err != nil {
		panic(err.Error())
	}
}

// acquire takes the lock, waiting until deadline (zero: none) or ctx (nil:
// none) is done, and reports whether it did.
func (c *lockCore) acquire(ctx context.Context, deadline time.Time) (bool, error) {
	defer runtime.KeepAlive(c)
	if c.obj.closed.Load() {
		return false, ErrSyncClosed
	}
	var g int64
	if c.recursive {
		g = goroutineID()
		if c.owner.get() == g {
			c.count++
			return true, nil
		}
	}
	recovered := false
	if !c.m.TryLock() {
		wctx, stop := c.obj.waitCtx(ctx)
		var err error
		recovered, err = c.m.Lock(wctx, deadline)
		stop()
		if err != nil {
			return false, c.obj.waitError(ctx, err)
		}
	}
	if c.obj.closed.Load() {
		c.m.Unlock()
		return false, ErrSyncClosed
	}
	if c.recursive {
		c.owner.set(g)
		c.count = 1
	}
	if recovered {
		return true, ErrOwnerDead
	}
	return true, nil
}

func (c *lockCore) locked() bool {
	defer runtime.KeepAlive(c)
	return c.m.Owner() != 0
}

// held reports whether the caller holds the lock: its process for a Lock,
// its goroutine for an RLock.
func (c *lockCore) held() bool {
	defer runtime.KeepAlive(c)
	if c.recursive {
		return c.owner.get() == goroutineID()
	}
	return c.m.Held()
}

func (c *lockCore) releaseError() error {
	switch {
	case c.obj.closed.Load():
		return ErrSyncClosed
	case c.m.Owner() == 0:
		return ErrTooManyReleases
	}
	return ErrNotOwner
}

func (c *lockCore) releaseRecursive() error {
	defer runtime.KeepAlive(c)
	if c.owner.get() != goroutineID() {
		if c.obj.closed.Load() {
			return ErrSyncClosed
		}
		if c.m.Owner() == 0 {
			return ErrTooManyReleases
		}
		return ErrNotOwner
	}
	c.count--
	if c.count > 0 {
		return nil
	}
	c.owner.set(0)
	c.m.Unlock()
	return nil
}

// releaseAll releases the lock, whatever its depth, for a Condition's
// wait, and returns the depth to restore.
func (c *lockCore) releaseAll() int {
	defer runtime.KeepAlive(c)
	n := 1
	if c.recursive {
		n = c.count
		c.count = 0
		c.owner.set(0)
	}
	c.m.Unlock()
	return n
}

// restore takes the lock back after a Condition's wait, at the depth it
// had. It waits as long as it takes (Python's wait always returns holding
// the lock); only Close ends it early.
func (c *lockCore) restore(depth int) error {
	defer runtime.KeepAlive(c)
	g := int64(0)
	if c.recursive {
		g = goroutineID()
	}
	recovered := false
	if !c.m.TryLock() {
		var err error
		recovered, err = c.m.Lock(c.obj.closing, time.Time{})
		if err != nil {
			return c.obj.waitError(context.Background(), err)
		}
	}
	if c.recursive {
		c.owner.set(g)
		c.count = depth
	}
	if recovered {
		return ErrOwnerDead
	}
	return nil
}

// closeHeld releases the lock at Close if this process holds it.
func (c *lockCore) closeHeld() {
	if c.recursive {
		if c.owner.get() == 0 {
			return
		}
		c.owner.set(0)
		c.count = 0
	}
	c.m.Unlock()
}
