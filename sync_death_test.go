package mp_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
)

func init() {
	ipcTargets = append(ipcTargets, holdLock, holdRLock, holdUnits, barrierParty, syncRelay, &syncRunner{},
		releaseOthers, churnLock, churnUnits, takeUnits)
}

// killed waits to be killed, holding whatever it took.
func killed() { time.Sleep(time.Hour) }

func holdLock(l *mp.Lock, ready *mp.Event) error {
	if err := l.Acquire(); err != nil {
		return err
	}
	if err := ready.Set(); err != nil {
		return err
	}
	killed()
	return nil
}

func holdRLock(l *mp.RLock, ready *mp.Event) error {
	for range 3 {
		if err := l.Acquire(); err != nil {
			return err
		}
	}
	if err := ready.Set(); err != nil {
		return err
	}
	killed()
	return nil
}

func holdUnits(s *mp.Semaphore, n int, ready *mp.Event) error {
	for range n {
		if err := s.Acquire(); err != nil {
			return err
		}
	}
	if err := ready.Set(); err != nil {
		return err
	}
	killed()
	return nil
}

func barrierParty(b *mp.Barrier, ready *mp.Event) error {
	if err := ready.Set(); err != nil {
		return err
	}
	_, err := b.Wait()
	return err
}

// killAndWait kills p once ready is set.
func killWhenReady(t *testing.T, p *mp.Process, ready *mp.Event) {
	t.Helper()
	ok, err := ready.WaitTimeout(time.Minute)
	require.NoError(t, err)
	require.True(t, ok, "the child did not get ready")
	require.NoError(t, p.Kill())
}

// TestLockHolderKilled: a Lock or RLock whose holder is killed is taken
// over by the next acquirer at once (within soon), which is told; by a waiter
// already waiting, and by a try.
func TestLockHolderKilled(t *testing.T) {
	t.Parallel()
	eachMethod(t, func(t *testing.T, m mp.StartMethod) {
		for _, try := range []bool{false, true} {
			l := newLock(t)
			ready := newEvent(t)
			p := startIn(t, m, holdLock, l, ready)
			killWhenReady(t, p, ready)
			quickly(t, soon, "Lock recovered", func() {
				if try {
					for {
						ok, err := l.AcquireTimeout(0)
						if ok {
							assert.ErrorIs(t, err, mp.ErrOwnerDead)
							break
						}
						require.NoError(t, err)
					}
				} else {
					assert.ErrorIs(t, l.Acquire(), mp.ErrOwnerDead)
				}
			})
			assert.True(t, l.Locked())
			require.NoError(t, l.Release())
			require.NoError(t, l.Acquire(), "told once")
			require.NoError(t, l.Release())
		}

		r := newRLock(t)
		ready := newEvent(t)
		p := startIn(t, m, holdRLock, r, ready)
		ok, err := ready.WaitTimeout(time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		got := make(chan error, 1)
		go func() { got <- r.Acquire() }() // waiting already, most likely
		require.NoError(t, p.Kill())
		quickly(t, soon, "RLock recovered", func() { assert.ErrorIs(t, <-got, mp.ErrOwnerDead) })
		assert.ErrorIs(t, r.Release(), mp.ErrNotOwner, "held by the goroutine that took it over")
	})
}

// TestSemaphoreHolderKilled: the units of a killed holder come back within
// a second, each to an acquirer that is told, and no more than it held.
func TestSemaphoreHolderKilled(t *testing.T) {
	t.Parallel()
	eachMethod(t, func(t *testing.T, m mp.StartMethod) {
		s, err := mp.NewBoundedSemaphore(3)
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		ready := newEvent(t)
		p := startIn(t, m, holdUnits, s, 2, ready)
		killWhenReady(t, p, ready)
		require.NoError(t, s.Acquire(), "the unit never taken")
		quickly(t, soon, "units recovered", func() {
			for range 2 {
				assert.ErrorIs(t, s.Acquire(), mp.ErrOwnerDead)
			}
		})
		ok, err := s.AcquireTimeout(0)
		require.NoError(t, err)
		assert.False(t, ok, "no unit made twice")
		for range 3 {
			require.NoError(t, s.Release())
		}
		assert.ErrorIs(t, s.Release(), mp.ErrTooManyReleases)
	})
}

// takeUnits takes n units and returns.
func takeUnits(s *mp.Semaphore, n int) error {
	for range n {
		if err := s.Acquire(); err != nil {
			return err
		}
	}
	return nil
}

// TestSemaphoreExitConsumes: a child that returns from its target having
// taken units that another released (Python's producer and consumer) uses
// them up: unlike a killed holder's, they do not come back.
func TestSemaphoreExitConsumes(t *testing.T) {
	t.Parallel()
	eachMethod(t, func(t *testing.T, m mp.StartMethod) {
		s := newSem(t, 0)
		require.NoError(t, s.Release())
		require.NoError(t, s.Release())
		require.NoError(t, startIn(t, m, takeUnits, s, 2).Join())
		assert.Equal(t, 0, s.Value())
		ok, err := s.AcquireTimeout(300 * time.Millisecond) // past the 0.1 s after which dead holders are looked for
		require.NoError(t, err)
		assert.False(t, ok, "a consumer's units came back")
	})
}

// TestConditionWaiterKilled: Notify(1) does not count a killed waiter, so
// the live one wakes.
func TestConditionWaiterKilled(t *testing.T) {
	t.Parallel()
	eachMethod(t, func(t *testing.T, m mp.StartMethod) {
		cond := newCond(t, nil)
		sleeping, woken := newSem(t, 0), newSem(t, 0)
		doomed := startIn(t, m, condF, cond, sleeping, woken, time.Duration(0))
		take(t, sleeping)
		// Kill it in its wait, not while it holds the lock.
		require.NoError(t, cond.Acquire())
		require.NoError(t, cond.Release())
		require.NoError(t, doomed.Kill())
		_ = doomed.Join()
		live := startIn(t, m, condF, cond, sleeping, woken, time.Duration(0))
		take(t, sleeping)
		quickly(t, soon, "the live waiter woken", func() {
			notify(t, cond, 1)
			ok, err := woken.AcquireTimeout(time.Minute)
			require.NoError(t, err)
			assert.True(t, ok)
		})
		require.NoError(t, live.Join())
	})
}

// TestBarrierPartyKilled: a party killed while waiting breaks the barrier
// for the others at once (within soon).
func TestBarrierPartyKilled(t *testing.T) {
	t.Parallel()
	eachMethod(t, func(t *testing.T, m mp.StartMethod) {
		b := newBarrier(t, 3)
		ready := newEvent(t)
		doomed := startIn(t, m, barrierParty, b, ready)
		other := startIn(t, m, barrierParty, b, newEvent(t))
		require.NoError(t, untilWaiting(b, 2))
		require.NoError(t, doomed.Kill())
		quickly(t, soon, "the barrier broken", func() {
			err := other.Join()
			var ee *mp.ExitError
			require.ErrorAs(t, err, &ee)
			assert.Contains(t, ee.Err, mp.ErrBrokenBarrier.Error())
		})
		assert.True(t, b.Broken())
		require.NoError(t, b.Reset())
		assert.Equal(t, 0, b.NWaiting(), "the dead party is out")
	})
}

// syncRelay passes everything to a grandchild (depth levels down), which
// checks that the parent holds l and r, takes a unit of s, meets the parent
// at b, notifies it through c and sets e.
func syncRelay(depth int, l *mp.Lock, r *mp.RLock, s *mp.Semaphore, e *mp.Event, c *mp.Condition, b *mp.Barrier) error {
	if depth > 0 {
		p := mp.NewProcess(syncRelay, depth-1, l, r, s, e, c, b)
		if err := p.Start(); err != nil {
			return err
		}
		return p.Join()
	}
	if ok, err := l.AcquireTimeout(0); ok || err != nil {
		return fmt.Errorf("took the Lock its grandparent holds: %v %v", ok, err)
	}
	if !r.Locked() {
		return errors.New("the RLock is not held")
	}
	if err := r.Release(); !errors.Is(err, mp.ErrNotOwner) {
		return fmt.Errorf("released another process's RLock: %v", err)
	}
	if err := l.Release(); !errors.Is(err, mp.ErrNotOwner) {
		return fmt.Errorf("released another process's Lock: %v", err)
	}
	if err := s.Acquire(); err != nil {
		return err
	}
	if _, err := b.Wait(); err != nil {
		return err
	}
	if err := notifyOnce(c); err != nil {
		return err
	}
	return e.Set()
}

// syncRunner carries a Lock and an Event as Runner fields.
type syncRunner struct {
	L *mp.Lock
	E *mp.Event
}

func (r *syncRunner) Run() error {
	if r.L.Locked() {
		return errors.New("the lock is held")
	}
	if err := r.L.Acquire(); err != nil {
		return err
	}
	defer r.L.Release()
	return r.E.Set()
}

// releaseOthers tries to release a Lock that its parent holds.
func releaseOthers(l *mp.Lock) error { return l.Release() }

func TestSyncGrandchild(t *testing.T) {
	t.Parallel()
	eachMethod(t, func(t *testing.T, m mp.StartMethod) {
		l, r, s, e := newLock(t), newRLock(t), newSem(t, 2), newEvent(t)
		c, b := newCond(t, newLock(t)), newBarrier(t, 2)
		require.NoError(t, l.Acquire())
		require.NoError(t, r.Acquire())
		require.NoError(t, c.Acquire())
		p := startIn(t, m, syncRelay, 2, l, r, s, e, c, b)
		_, err := b.Wait()
		require.NoError(t, err)
		ok, err := c.WaitTimeout(time.Minute)
		require.NoError(t, err)
		assert.True(t, ok, "notified by the grandchild")
		require.NoError(t, c.Release())
		require.NoError(t, e.Wait())
		require.NoError(t, p.Join())
		assert.Equal(t, 1, s.Value(), "the grandchild's unit is used up at its exit")
		require.NoError(t, l.Release())
		require.NoError(t, r.Release())

		// A Runner's fields.
		e2 := newEvent(t)
		q := mp.NewProcess(&syncRunner{L: l, E: e2})
		q.StartMethod = m
		start(t, q)
		require.NoError(t, q.Join())
		assert.True(t, e2.IsSet())
		assert.False(t, l.Locked())
	})
}

func TestSyncMisuse(t *testing.T) {
	t.Parallel()
	l := newLock(t)
	// Encoded anywhere, a Lock decodes only where it is held: here, as the
	// same lock.
	b, err := l.MarshalBinary()
	require.NoError(t, err)
	var again mp.Lock
	require.NoError(t, again.UnmarshalBinary(b))
	require.NoError(t, again.Acquire())
	assert.True(t, l.Locked(), "the same lock")
	require.NoError(t, l.Release())
	assert.ErrorIs(t, new(mp.RLock).UnmarshalBinary(b), mp.ErrBadMessage, "a Lock's encoding is no RLock")
	b[5] ^= 0xff // another object, in this lock's segment
	assert.ErrorIs(t, new(mp.Lock).UnmarshalBinary(b), mp.ErrBadMessage)
	b[25] ^= 0xff // and another segment: held neither here nor anywhere
	assert.ErrorIs(t, new(mp.Lock).UnmarshalBinary(b), mp.ErrNotPassable)
	assert.ErrorIs(t, new(mp.Lock).UnmarshalBinary([]byte{2, 1, 3}), mp.ErrBadMessage)
	assert.ErrorIs(t, new(mp.Condition).UnmarshalBinary([]byte{2}), mp.ErrBadMessage)

	// Release of another process's Lock.
	require.NoError(t, l.Acquire())
	p := startIn(t, mp.Spawn, releaseOthers, l)
	err = p.Join()
	var ee *mp.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Contains(t, ee.Err, mp.ErrNotOwner.Error())
	require.NoError(t, l.Release())

	// Conditions without their lock.
	c := newCond(t, nil)
	assert.ErrorIs(t, c.Notify(1), mp.ErrNotOwner)
	assert.ErrorIs(t, c.Wait(), mp.ErrNotOwner)

	// Bad values.
	for _, v := range []int{-1, mp.MaxSemaphoreValue + 1} {
		_, err := mp.NewSemaphore(v)
		assert.ErrorIs(t, err, mp.ErrArgs)
	}
	s, err := mp.NewSemaphore(mp.MaxSemaphoreValue)
	require.NoError(t, err)
	assert.ErrorIs(t, s.Release(), mp.ErrTooManyReleases)
	require.NoError(t, s.Close())

	// Zero values.
	assert.PanicsWithValue(t, "mp: use of a zero Lock: create it with NewLock", func() { new(mp.Lock).Acquire() })
	assert.Panics(t, func() { new(mp.RLock).Acquire() })
	assert.Panics(t, func() { new(mp.Semaphore).Acquire() })
	assert.Panics(t, func() { new(mp.Event).Set() })
	assert.Panics(t, func() { new(mp.Condition).Wait() })
	assert.Panics(t, func() { new(mp.Barrier).Wait() })
}

// TestSyncClose: Close releases what this process holds, ends its waits,
// and makes later use fail; other processes keep theirs.
func TestSyncClose(t *testing.T) {
	t.Parallel()
	l := newLock(t)
	require.NoError(t, l.Acquire())
	waiting := make(chan error, 1)
	e := newEvent(t)
	go func() { waiting <- e.Wait() }()
	require.NoError(t, e.Close())
	assert.ErrorIs(t, <-waiting, mp.ErrSyncClosed)
	require.NoError(t, e.Close(), "a second Close")
	assert.ErrorIs(t, e.Set(), mp.ErrSyncClosed)

	// A child waits for the Lock this process holds; Close releases it.
	ready := newEvent(t)
	p := startIn(t, mp.Spawn, holdLock, l, ready)
	require.NoError(t, l.Close())
	ok, err := ready.WaitTimeout(time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "the child got the lock")
	assert.ErrorIs(t, l.Acquire(), mp.ErrSyncClosed)
	assert.ErrorIs(t, l.Release(), mp.ErrSyncClosed)
	_, err = l.MarshalBinary()
	assert.ErrorIs(t, err, mp.ErrSyncClosed)
	require.NoError(t, p.Kill())

	s := newSem(t, 0)
	got := make(chan error, 1)
	go func() { got <- s.Acquire() }()
	require.NoError(t, s.Close())
	assert.ErrorIs(t, <-got, mp.ErrSyncClosed)

	b := newBarrier(t, 2)
	go func() { _, err := b.Wait(); got <- err }()
	require.NoError(t, untilWaiting(b, 1))
	require.NoError(t, b.Close())
	assert.ErrorIs(t, <-got, mp.ErrSyncClosed)

	c := newCond(t, newLock(t))
	require.NoError(t, c.Acquire())
	go func() { got <- c.Wait() }() // a Lock is held by the process: any goroutine may wait
	// Once the wait has released the lock, it waits.
	ok, err = c.AcquireTimeout(time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, c.Close())
	assert.ErrorIs(t, <-got, mp.ErrSyncClosed)
}

// churnLock takes and releases the lock for ever.
func churnLock(l *mp.Lock, ready *mp.Event) error {
	if err := ready.Set(); err != nil {
		return err
	}
	for {
		if err := l.Acquire(); err != nil && !errors.Is(err, mp.ErrOwnerDead) {
			return err
		}
		if err := l.Release(); err != nil {
			return err
		}
	}
}

// churnUnits takes and releases a unit for ever.
func churnUnits(s *mp.Semaphore, ready *mp.Event) error {
	if err := ready.Set(); err != nil {
		return err
	}
	for {
		if err := s.Acquire(); err != nil && !errors.Is(err, mp.ErrOwnerDead) {
			return err
		}
		if err := s.Release(); err != nil {
			return err
		}
	}
}

// kills is how many children the kill storms kill: a few in go test -short,
// tens in go test, hundreds with MP_SOAK=1.
func kills() int {
	switch {
	case os.Getenv("MP_SOAK") != "":
		return 300
	case testing.Short():
		return 4
	}
	return 16
}

// TestSyncKillStorm: children take and release a Lock, and units of a
// bounded Semaphore, flat out, and are killed at random instants; after
// every kill this process gets the lock at once (within soon), and at the end
// it gets every unit back, and not one more.
func TestSyncKillStorm(t *testing.T) {
	t.Parallel()
	const children, units = 3, 2
	l := newLock(t)
	s, err := mp.NewBoundedSemaphore(units)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	startChurn := func(target any, shared any) *mp.Process {
		ready := newEvent(t)
		p := startIn(t, mp.Spawn, target, shared, ready)
		ok, err := ready.WaitTimeout(time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		return p
	}
	var lps, sps []*mp.Process
	for range children {
		lps = append(lps, startChurn(churnLock, l))
		sps = append(sps, startChurn(churnUnits, s))
	}
	for k := range kills() {
		time.Sleep(time.Duration(rand.IntN(5000)) * time.Microsecond) // a random instant
		i := k % children
		require.NoError(t, lps[i].Kill())
		require.NoError(t, sps[i].Kill())
		quickly(t, soon, fmt.Sprintf("kill %d: lock", k), func() {
			err := l.Acquire()
			if err != nil {
				require.ErrorIs(t, err, mp.ErrOwnerDead)
			}
		})
		require.NoError(t, l.Release())
		lps[i] = startChurn(churnLock, l)
		sps[i] = startChurn(churnUnits, s)
	}
	for i := range children {
		require.NoError(t, lps[i].Kill())
		require.NoError(t, sps[i].Kill())
		_ = lps[i].Join()
		_ = sps[i].Join()
	}
	quickly(t, soon, "every unit back", func() {
		for range units {
			if err := s.Acquire(); err != nil {
				require.ErrorIs(t, err, mp.ErrOwnerDead)
			}
		}
	})
	ok, err := s.AcquireTimeout(0)
	require.NoError(t, err)
	assert.False(t, ok, "a unit made twice")
	err = l.Acquire()
	if err != nil {
		require.ErrorIs(t, err, mp.ErrOwnerDead)
	}
}
