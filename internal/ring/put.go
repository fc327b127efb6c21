package ring

import (
	"context"
	"errors"
	"time"

	"github.com/go-mp/mp/internal/robust"
)

// Put adds msg at the tail of the queue. An unbounded Put never waits: msg
// goes to the ring if it fits at once, and to this process's backlog
// otherwise, which the feeder writes in order. A bounded Put first waits,
// until deadline (zero: none) or ctx, for a free place, and returns ErrFull
// if none came; the bound counts messages in the ring and in every
// process's backlog. The queue keeps msg: the caller must not change it.
func (q *Queue) Put(ctx context.Context, msg []byte, deadline time.Time) error {
	if err := q.begin(true); err != nil {
		return err
	}
	defer q.end()
	if uint64(len(msg)) > q.maxMsg {
		return errors.New("mp: message too large for the queue")
	}
	if q.maxsize > 0 {
		return q.putBounded(ctx, msg, deadline)
	}
	s := q.mySlot()
	if s < 0 {
		if err := q.lock(ctx, time.Time{}); err != nil {
			return err
		}
		var err error
		s, err = q.claimSlotLocked()
		q.mu.Unlock()
		if err != nil {
			return err
		}
	}
	q.table.Field(s, fEnq).Add(1)
	q.feed.mu.Lock()
	defer q.feed.mu.Unlock()
	if len(q.feed.backlog) == 0 && !q.feed.running && q.mu.TryLock() {
		n, _ := q.writeLocked([][]byte{msg}, nil)
		ok := n == 1
		q.mu.Unlock()
		if ok {
			q.notEmpty.Wake()
			return nil
		}
	}
	q.feed.add(q, msg)
	return nil
}

func (q *Queue) putBounded(ctx context.Context, msg []byte, deadline time.Time) error {
	for {
		nf := q.notFull.Load()
		if err := q.lock(ctx, lockBy(deadline)); err != nil {
			if err == robust.ErrTimeout {
				return ErrFull
			}
			return err
		}
		s, err := q.claimSlotLocked()
		if err != nil {
			q.mu.Unlock()
			return err
		}
		if q.usedLocked() < uint64(q.maxsize) {
			q.table.Field(s, fEnq).Add(1)
			q.feed.mu.Lock()
			wrote := false
			if len(q.feed.backlog) == 0 && !q.feed.running {
				n, _ := q.writeLocked([][]byte{msg}, nil)
				wrote = n == 1
			}
			q.mu.Unlock()
			if !wrote {
				q.feed.add(q, msg)
			}
			q.feed.mu.Unlock()
			if wrote {
				q.notEmpty.Wake()
			}
			return nil
		}
		q.mu.Unlock()
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return ErrFull
		}
		q.notFull.Wait(nf, deadline, q.stop)
		if q.isClosed() {
			return ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		// Dead producers' backlogs hold places: give them back.
		q.sweep(ctx, deadline, false)
	}
}

// usedLocked counts the messages that hold a place: frames in the ring and
// messages in the backlogs (of dead processes too, until they are reaped).
func (q *Queue) usedLocked() uint64 {
	n := q.items.Load()
	for s := range q.table.Len() {
		if q.table.Owner(s) != 0 {
			n += q.table.Field(s, fEnq).Load() - q.table.Field(s, fFed).Load()
		}
	}
	return n
}

// stream is a writer's progress through the frame it streams in: how many
// of the frame's bytes (header, payload, padding) are in the ring.
type stream struct {
	active bool
	off    uint64
}

// writeLocked writes messages from msgs, in order, while they fit, and
// returns how many it wrote whole, and whether it wrote anything (a chunk
// of a stream counts). A message whose frame does not fit in
// the free space and is larger than a quarter of the ring streams in: with
// st non-nil (the feeder), it starts a stream, or continues the one st
// records, chunk by chunk; it counts as written once its last chunk is in.
// Everything is committed once, at the end. q.mu is held.
func (q *Queue) writeLocked(msgs [][]byte, st *stream) (int, bool) {
	self := uint64(robust.Self())
	s := q.mySlot()
	head, tail0 := q.head.Load(), q.tail.Load()
	tail := tail0
	m := q.mu
	written, items := 0, uint64(0)
	if w := q.sWriter.Load(); w != 0 {
		if w != self || st == nil || !st.active {
			return 0, false // another's stream is being written: wait for it
		}
		msg := msgs[0]
		fs := frameSize(uint64(len(msg)))
		chunk := min(q.size-(tail-head), fs-st.off)
		if chunk == 0 {
			return 0, false
		}
		q.copyFrame(tail, msg, st.off, st.off+chunk)
		st.off += chunk
		m.Stage(hTail, tail+chunk)
		if st.off < fs {
			m.Commit()
			return 0, true
		}
		m.Stage(hSWriter, 0)
		m.Commit()
		*st = stream{}
		return 1, true
	}
	if st != nil && st.active {
		// Someone ended this process's stream: only an exiting feeder does
		// (abortStreamLocked), and it resets st itself.
		*st = stream{}
	}
	for _, msg := range msgs {
		n := uint64(len(msg))
		fs := frameSize(n)
		room := q.size - (tail - head)
		if fs <= room {
			q.copyFrame(tail, msg, 0, fs)
			tail += fs
			items++
			written++
			continue
		}
		if written == 0 && st != nil && fs > q.size/4 && room >= 8 {
			// Stream it in: the header and what fits now.
			chunk := min(room, fs)
			q.copyFrame(tail, msg, 0, chunk)
			m.Stage(hSWriter, self)
			m.Stage(hSStart, tail)
			m.Stage(hSEnd, tail+fs)
			m.Stage(hTail, tail+chunk)
			m.Stage(hItems, q.items.Load()+1)
			m.Stage(q.table.FieldOff(s, fFed), q.table.Field(s, fFed).Load()+1)
			m.Commit()
			*st = stream{active: true, off: chunk}
			return 0, true
		}
		break
	}
	if written > 0 {
		m.Stage(hTail, tail)
		m.Stage(hItems, q.items.Load()+items)
		m.Stage(q.table.FieldOff(s, fFed), q.table.Field(s, fFed).Load()+uint64(written))
		m.Commit()
	}
	return written, written > 0
}

// copyFrame copies bytes [from, to) of msg's frame (header, payload,
// padding) into the ring at pos.
func (q *Queue) copyFrame(pos uint64, msg []byte, from, to uint64) {
	n := uint64(len(msg))
	if from < 8 {
		var h [8]byte
		putHeader(h[:], n)
		k := min(to, 8) - from
		q.copyIn(pos, h[from:from+k])
		pos, from = pos+k, from+k
	}
	if from < to && from-8 < n {
		k := min(to-8, n) - (from - 8)
		q.copyIn(pos, msg[from-8:from-8+k])
		pos, from = pos+k, from+k
	}
	if from < to {
		var zero [8]byte
		q.copyIn(pos, zero[:to-from])
	}
}

// PutWait adds msg at the tail of the queue writing it itself, with no
// feeder and no backlog: it waits while the ring has no room (Python's
// SimpleQueue). A message larger than a quarter of the ring streams in.
func (q *Queue) PutWait(ctx context.Context, msg []byte) error {
	if err := q.begin(true); err != nil {
		return err
	}
	defer q.end()
	if uint64(len(msg)) > q.maxMsg {
		return errors.New("mp: message too large for the queue")
	}
	if err := q.lock(ctx, time.Time{}); err != nil {
		return err
	}
	s, err := q.claimSlotLocked()
	if err == nil {
		q.table.Field(s, fEnq).Add(1)
	}
	q.mu.Unlock()
	if err != nil {
		return err
	}
	var st stream
	for {
		nf := q.notFull.Load()
		if err := q.lock(context.Background(), time.Time{}); err != nil {
			return err
		}
		n, moved := q.writeLocked([][]byte{msg}, &st)
		stop := n == 0 && (q.isClosed() || ctx.Err() != nil)
		if stop {
			// Give the message up: it is lost (counted, for Join).
			if st.active {
				q.abortStreamLocked(false)
			} else {
				q.mu.Stage(hLost, q.lost.Load()+1)
				q.mu.Stage(q.table.FieldOff(s, fFed), q.table.Field(s, fFed).Load()+1)
				q.mu.Commit()
			}
		}
		q.mu.Unlock()
		if moved || stop {
			q.notEmpty.Wake()
			if n > 0 || stop {
				q.notFull.Wake()
			}
		}
		switch {
		case n == 1:
			return nil
		case stop && ctx.Err() != nil:
			return ctx.Err()
		case stop:
			return ErrClosed
		case moved:
			continue
		}
		q.notFull.Wait(nf, time.Time{}, q.stop)
		q.sweep(ctx, time.Time{}, false)
	}
}
