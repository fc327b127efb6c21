package managers

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Lock is a proxy of a lock that a manager's server holds: Python's
// manager.Lock(), a threading.Lock in the server. As there, any process
// may release it, not only the one that acquired it. Unlike there, a
// process that ends holding it does not leave it locked for ever: the
// next Acquire takes it over and returns an error wrapping ErrOwnerDead
// (the lock is held then), and a Release by another process still
// releases it. Each call is one round trip; a waiting Acquire waits in
// the server, and is cancelled there if its process ends or its context
// does.
//
// A Lock is safe for concurrent use and crosses into other processes as a
// Dict does. mp's own Lock (shared memory, between the processes of one
// host) is faster; this one is reachable from anywhere the manager is.
type Lock struct{ r *ref }

// NewLock creates an unlocked lock in m's server and returns its proxy.
func NewLock(m *Manager, opts ...CreateOption) (*Lock, error) {
	r, err := create(m, typeLock, createName(opts), nil)
	if err != nil {
		return nil, err
	}
	return &Lock{r}, nil
}

// Acquire takes the lock, waiting as long as it takes. It returns nil, or
// an error wrapping ErrOwnerDead when it took the lock over from a
// process that ended holding it: the lock is held either way.
func (l *Lock) Acquire() error {
	_, err := l.acquire(context.Background(), forever)
	return err
}

// AcquireTimeout takes the lock, waiting at most d (zero or less: not at
// all, Python's acquire(False)), and reports whether it did; the error is
// as for Acquire, and with ErrOwnerDead the result is true.
func (l *Lock) AcquireTimeout(d time.Duration) (bool, error) {
	return l.acquire(context.Background(), timeoutArg(d))
}

// AcquireContext takes the lock, waiting until ctx ends; it then returns
// ctx's error without the lock.
func (l *Lock) AcquireContext(ctx context.Context) error {
	_, err := l.acquire(ctx, forever)
	return err
}

func (l *Lock) acquire(ctx context.Context, timeout int64) (bool, error) {
	resp, err := l.r.callContext(ctx, "acquire", []int64{timeout})
	if err != nil {
		return false, err
	}
	if len(resp.ints) != 2 {
		return false, badCall(typeLock, "acquire")
	}
	if resp.ints[1] == 1 {
		return true, errorf(ErrOwnerDead, "lock taken over from a process that ended holding it")
	}
	return resp.ints[0] == 1, nil
}

// Release releases the lock. It returns an error wrapping
// ErrTooManyReleases if the lock is not locked.
func (l *Lock) Release() error {
	_, err := l.r.call("release", nil)
	return err
}

// Locked reports whether the lock is held.
func (l *Lock) Locked() (bool, error) {
	resp, err := l.r.call("locked", nil)
	if err != nil {
		return false, err
	}
	n, err := oneInt(resp)
	return n == 1, err
}

// Lock acquires the lock, so that a Lock is a sync.Locker. It panics with
// Acquire's error, unless that wraps ErrOwnerDead.
func (l *Lock) Lock() {
	if err := l.Acquire(); err != nil && !isOwnerDead(err) {
		panic(err.Error())
	}
}

// Unlock releases the lock; it panics with Release's error.
func (l *Lock) Unlock() {
	if err := l.Release(); err != nil {
		panic(err.Error())
	}
}

// Close lets go of the lock; see Dict.Close.
func (l *Lock) Close() error { return l.r.close() }

// String describes the proxy, as Python's repr of a proxy does.
func (l *Lock) String() string { return l.r.String() }

// MarshalBinary encodes the proxy, so that it crosses into another
// process.
func (l *Lock) MarshalBinary() ([]byte, error) { return l.r.marshal() }

// UnmarshalBinary is MarshalBinary's inverse.
func (l *Lock) UnmarshalBinary(b []byte) error {
	r, err := unmarshalRef(b, typeLock)
	if err != nil {
		return err
	}
	l.r = r
	return nil
}

// lockObject is a lock in the server.
type lockObject struct {
	mu        sync.Mutex
	sig       signal
	locked    bool
	holder    *session // who acquired it; nil once it ended (abandoned)
	abandoned bool
}

func newLockObject(ints []int64, vals [][]byte) (object, error) {
	if len(ints) != 0 || len(vals) != 0 {
		return nil, badCall(typeLock, "create")
	}
	return &lockObject{}, nil
}

func (l *lockObject) call(c *call, method string, ints []int64, vals [][]byte) (*response, error) {
	if len(vals) != 0 {
		return nil, badCall(typeLock, method)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch method {
	case "acquire":
		if len(ints) != 1 {
			return nil, badCall(typeLock, method)
		}
		ok, err := waitUntil(c, &l.mu, &l.sig, time.Duration(ints[0]), func() bool { return !l.locked || l.abandoned })
		if err != nil || !ok {
			return &response{ints: []int64{0, 0}}, err
		}
		dead := l.locked && l.abandoned
		l.locked, l.holder, l.abandoned = true, c.sess, false
		if !c.touch(l) {
			l.holder, l.abandoned = nil, true // the session ended meanwhile
		}
		return &response{ints: []int64{1, boolInt(dead)}}, nil
	case "release":
		if !l.locked {
			return nil, errorf(ErrTooManyReleases, "release of an unlocked lock")
		}
		l.locked, l.holder, l.abandoned = false, nil, false
		l.sig.broadcast()
		return &response{}, nil
	case "locked":
		return &response{ints: []int64{boolInt(l.locked)}}, nil
	}
	return nil, unknownMethod(typeLock, method)
}

func (l *lockObject) endSession(s *session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.locked && l.holder == s {
		l.holder, l.abandoned = nil, true
		l.sig.broadcast()
	}
}

func isOwnerDead(err error) bool { return errors.Is(err, ErrOwnerDead) }
