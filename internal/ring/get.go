package ring

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/go-mp/mp/internal/robust"
)

// Get removes the message at the head of the queue and returns it, waiting
// until deadline (zero: none) or ctx for one; ErrEmpty if none came. A
// message that streams in is copied out as it arrives; if the deadline
// passes in the middle of one, this process keeps what it has read, and
// its next Get goes on with it (other processes' Gets wait for it).
func (q *Queue) Get(ctx context.Context, deadline time.Time) ([]byte, error) {
	if err := q.begin(false); err != nil {
		return nil, err
	}
	defer q.end()
	if err := q.lockGate(ctx, lockBy(deadline)); err != nil {
		return nil, timeoutAs(err, ErrEmpty)
	}
	defer q.getGate.Unlock()
	for {
		ne := q.notEmpty.Load()
		if err := q.lock(ctx, lockBy(deadline)); err != nil {
			return nil, timeoutAs(err, ErrEmpty)
		}
		msg, got, moved, err := q.getLocked()
		q.mu.Unlock()
		if moved {
			q.notFull.Wake()
		}
		if got || err != nil {
			return msg, err
		}
		if q.isClosed() {
			return nil, ErrClosed
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return nil, ErrEmpty
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !moved {
			q.notEmpty.Wait(ne, deadline, q.stop)
		}
		// A stream whose writer or claimer died blocks the head.
		q.sweep(ctx, deadline, false)
	}
}

func timeoutAs(err, as error) error {
	if err == robust.ErrTimeout {
		return as
	}
	return err
}

// getLocked takes the message at the head, or makes what progress it can
// on a frame still streaming in. It reports whether it got a message, and
// whether it moved the head. q.mu is held; the get gate too.
func (q *Queue) getLocked() (msg []byte, got, moved bool, err error) {
	self := uint64(robust.Self())
	m := q.mu
	held := -1
	if q.joinable {
		if held, err = q.claimSlotLocked(); err != nil {
			return nil, false, false, err
		}
	}
	for {
		c := &q.claim
		if c.active {
			if q.sReader.Load() != self {
				*c = claim{} // cannot happen while this process lives
				continue
			}
			head, end := q.head.Load(), q.sREnd.Load()
			if q.sFlags.Load()&sAborted != 0 {
				// Its writer stopped: drop it (it is counted already).
				m.Stage(hHead, end)
				m.Stage(hSReader, 0)
				m.Stage(hSFlags, 0)
				m.Commit()
				*c = claim{}
				moved = true
				continue
			}
			avail := min(q.tail.Load(), end) - head
			if avail == 0 {
				return nil, false, moved, nil
			}
			if !c.drain {
				k := min(avail, uint64(c.want-len(c.buf)))
				c.buf = slices.Grow(c.buf, int(k))[:len(c.buf)+int(k)]
				q.copyOut(c.buf[len(c.buf)-int(k):], head)
			}
			moved = true
			m.Stage(hHead, head+avail)
			if head+avail < end {
				m.Commit()
				return nil, false, moved, nil
			}
			m.Stage(hSReader, 0)
			m.Stage(hSFlags, 0)
			if !c.drain && held >= 0 {
				m.Stage(q.table.FieldOff(held, fHeld), q.table.Field(held, fHeld).Load()+1)
			}
			m.Commit()
			done := *c
			*c = claim{}
			if done.drain {
				continue
			}
			return done.buf, true, moved, nil
		}
		if q.sReader.Load() != 0 {
			// Another process reads the frame at the head.
			return nil, false, moved, nil
		}
		if q.sFlags.Load()&sAbandoned != 0 {
			// Its reader is gone: drain what is left of it.
			m.Stage(hSReader, self)
			m.Commit()
			*c = claim{active: true, drain: true}
			continue
		}
		if q.items.Load() == 0 {
			return nil, false, moved, nil
		}
		head := q.head.Load()
		n, err := q.header(head)
		if err != nil {
			return nil, false, moved, fmt.Errorf("%w (head %d tail %d items %d sWriter %x sStart %d sEnd %d sReader %x sREnd %d flags %x)", err,
				head, q.tail.Load(), q.items.Load(), q.sWriter.Load(), q.sStart.Load(), q.sEnd.Load(), q.sReader.Load(), q.sREnd.Load(), q.sFlags.Load())
		}
		end := head + frameSize(n)
		if end <= q.tail.Load() {
			msg := make([]byte, n)
			q.copyOut(msg, head+8)
			m.Stage(hHead, end)
			m.Stage(hItems, q.items.Load()-1)
			if held >= 0 {
				m.Stage(q.table.FieldOff(held, fHeld), q.table.Field(held, fHeld).Load()+1)
			}
			m.Commit()
			return msg, true, true, nil
		}
		if q.sWriter.Load() == 0 || q.sStart.Load() != head || q.sEnd.Load() != end {
			return nil, false, moved, ErrCorrupt
		}
		// A frame still streaming in: claim it, and copy it out as it comes.
		m.Stage(hSReader, self)
		m.Stage(hSREnd, end)
		m.Stage(hSFlags, 0)
		m.Stage(hHead, head+8)
		m.Stage(hItems, q.items.Load()-1)
		m.Commit()
		*c = claim{active: true, want: int(n), buf: make([]byte, 0, min(n, 1<<20))}
		moved = true
	}
}
