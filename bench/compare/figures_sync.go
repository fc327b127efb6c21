package main

import (
	"errors"
	"time"

	"github.com/go-mp/mp"
)

// The figures of the synchronisation primitives and shared values: the
// children are timed from a start signal (an Event set once every child
// is ready) until every child has said it is done (a Semaphore), so that
// starting processes is not counted, as in bench/pysync.py.

// signals are a timed run's: ready and done count children, start lets
// them go. Each child gets them as its last three arguments.
type signals struct {
	Ready, Done *mp.Semaphore
	Start       *mp.Event
}

func newSignals() (signals, error) {
	ready, err1 := mp.NewSemaphore(0)
	done, err2 := mp.NewSemaphore(0)
	start, err3 := mp.NewEvent()
	return signals{ready, done, start}, errors.Join(err1, err2, err3)
}

func (s signals) close() {
	for _, c := range []interface{ Close() error }{s.Ready, s.Done, s.Start} {
		if c != nil {
			_ = c.Close()
		}
	}
}

// begin says a child is ready and waits for the start.
func begin(ready *mp.Semaphore, start *mp.Event) error {
	if err := ready.Release(); err != nil {
		return err
	}
	return start.Wait()
}

// timedChildren starts a child of target for each argument list (the
// signals appended), and returns the time from the start signal until
// every child is done.
func timedChildren(target any, argsets [][]any) (time.Duration, error) {
	s, err := newSignals()
	defer s.close()
	if err != nil {
		return 0, err
	}
	var ps []*mp.Process
	defer func() {
		for _, p := range ps {
			_ = p.Kill()
			_ = p.Join()
			_ = p.Close()
		}
	}()
	for _, args := range argsets {
		p := mp.NewProcess(target, append(args, s.Ready, s.Done, s.Start)...)
		if err := p.Start(); err != nil {
			return 0, err
		}
		ps = append(ps, p)
	}
	for range ps {
		if err := s.Ready.Acquire(); err != nil {
			return 0, err
		}
	}
	t0 := time.Now()
	if err := s.Start.Set(); err != nil {
		return 0, err
	}
	for range ps {
		if err := s.Done.Acquire(); err != nil {
			return 0, err
		}
	}
	d := time.Since(t0)
	for _, p := range ps {
		if err := p.Join(); err != nil {
			return 0, err
		}
	}
	return d, nil
}

// handoffWorker takes turns with another process through l, as
// bench/compare's compare.py does: until it has taken n turns, take the
// lock, take the turn if it is its own (passing it on), release.
func handoffWorker(me int32, n int, l *mp.Lock, turn *mp.RawValue[int32], ready, done *mp.Semaphore, start *mp.Event) error {
	if err := begin(ready, start); err != nil {
		return err
	}
	for taken := 0; taken < n; {
		if err := l.Acquire(); err != nil {
			return err
		}
		if turn.Load() == me {
			turn.Store(1 - me)
			taken++
		}
		if err := l.Release(); err != nil {
			return err
		}
	}
	return done.Release()
}

// lockHandoffs is the rate at which two processes take turns through one
// Lock (a hand-off is a turn taken).
func lockHandoffs(s sizes) figure {
	n := s.of(1000, 50)
	return figure{
		name:   "Lock hand-offs between two processes",
		unit:   kPerSec,
		rounds: s.of(5, 1),
		mp: func() (float64, error) {
			l, err := mp.NewLock()
			if err != nil {
				return 0, err
			}
			defer l.Close()
			turn, err := mp.NewRawValue[int32](0)
			if err != nil {
				return 0, err
			}
			defer turn.Close()
			d, err := timedChildren(handoffWorker, [][]any{{int32(0), n, l, turn}, {int32(1), n, l, turn}})
			return float64(2*n) / d.Seconds(), err
		},
		py: map[string]any{"fig": "lock_handoffs", "n": n},
		note: "Python's Lock hand-offs vary a hundredfold with the machine's load (its waiter sleeps " +
			"while the releaser takes the lock again), so the hand-off row takes 1,000 turns each, not more.",
	}
}

// incrementWorker adds 1 to v n times.
func incrementWorker(v *mp.Value[int64], n int, ready, done *mp.Semaphore, start *mp.Event) error {
	if err := begin(ready, start); err != nil {
		return err
	}
	for range n {
		v.Add(1)
	}
	return done.Release()
}

// valueIncrements is the rate of increments of one shared Value by four
// processes: mp's atomic Add, Python's `with v.get_lock(): v.value += 1`
// (its way: a Value has no atomic add).
func valueIncrements(s sizes) figure {
	const procs = 4
	n := s.of(25_000, 1000)
	return figure{
		name: "shared Value increments, 4 processes",
		unit: kPerSec,
		mp: func() (float64, error) {
			v, err := mp.NewValue[int64](0)
			if err != nil {
				return 0, err
			}
			defer v.Close()
			args := make([][]any, procs)
			for i := range args {
				args[i] = []any{v, n}
			}
			d, err := timedChildren(incrementWorker, args)
			if err == nil && v.Load() != procs*int64(n) {
				err = errors.New("the increments do not add up")
			}
			return float64(procs*n) / d.Seconds(), err
		},
		py: map[string]any{"fig": "value_increments", "procs": procs, "n": n},
	}
}
