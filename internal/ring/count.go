package ring

import (
	"context"
	"time"
)

// Qsize returns the number of messages in the queue: in the ring and in
// the backlogs of live processes (Python counts its feeders' buffers). It
// first gives back the backlogs of processes found dead.
func (q *Queue) Qsize() (int, error) {
	if err := q.begin(false); err != nil {
		return 0, err
	}
	defer q.end()
	q.sweep(context.Background(), time.Time{}, false)
	if err := q.lock(context.Background(), time.Time{}); err != nil {
		return 0, err
	}
	n := q.usedLocked()
	q.mu.Unlock()
	return int(n), nil
}

// unfinishedLocked returns the messages put and not yet done: put by any
// process, less those lost, handed over at exit (their parent puts them
// again) and done.
func (q *Queue) unfinishedLocked() int64 {
	n := int64(q.ret.Load())
	for s := range q.table.Len() {
		if q.table.Owner(s) != 0 {
			n += int64(q.table.Field(s, fEnq).Load())
		}
	}
	return n - int64(q.lost.Load()) - int64(q.handed.Load()) - int64(q.done.Load())
}

// TaskDone says that a message got from the queue has been dealt with. It
// returns ErrTaskDone when no message is unfinished.
func (q *Queue) TaskDone() error {
	if err := q.begin(false); err != nil {
		return err
	}
	defer q.end()
	if err := q.lock(context.Background(), time.Time{}); err != nil {
		return err
	}
	u := q.unfinishedLocked()
	if u <= 0 {
		q.mu.Unlock()
		return ErrTaskDone
	}
	m := q.mu
	m.Stage(hDone, q.done.Load()+1)
	if s := q.mySlot(); s >= 0 && q.table.Field(s, fHeld).Load() > 0 {
		m.Stage(q.table.FieldOff(s, fHeld), q.table.Field(s, fHeld).Load()-1)
	}
	m.Commit()
	m.Unlock()
	if u == 1 {
		q.idle.Wake()
	}
	return nil
}

// Join waits until no message is unfinished, until deadline (zero: none)
// or ctx. A consumer that dies holding messages it got does not make it
// wait for ever: they count as done once its death is noticed, as do the
// messages a dead producer had not yet written (they count as lost).
func (q *Queue) Join(ctx context.Context, deadline time.Time) error {
	if err := q.begin(false); err != nil {
		return err
	}
	defer q.end()
	for {
		s := q.idle.Load()
		if err := q.lock(ctx, lockBy(deadline)); err != nil {
			return err
		}
		u := q.unfinishedLocked()
		q.mu.Unlock()
		if u <= 0 {
			return nil
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return context.DeadlineExceeded
		}
		q.idle.Wait(s, deadline, q.stop)
		if q.isClosed() {
			return ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		q.sweep(ctx, deadline, false)
	}
}
