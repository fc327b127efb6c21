package ring

import (
	"context"
	"sync"
	"time"

	"github.com/go-mp/mp/internal/wire"
)

// Spill is what an exiting child could not write to one queue: its backlog,
// as wire frames (a 4-byte big-endian length and the message, each),
// carried to its parent in its report.
type Spill struct {
	Queue  [16]byte
	Frames []byte
}

// Count returns how many messages sp holds; 0 for frames that do not parse.
func (sp Spill) Count() int {
	n, ok := countFrames(sp.Frames)
	if !ok {
		return 0
	}
	return n
}

func countFrames(b []byte) (int, bool) {
	if !wire.ValidFrames(b) {
		return 0, false
	}
	n := 0
	for len(b) > 0 {
		b = b[wire.HeaderSize+int(wire.Length(b)):]
		n++
	}
	return n, true
}

// forwarded holds the spills of this process's children for queues it does
// not hold, and the count of messages its descendants lost: a child passes
// them up in its own report (Flush).
var forwarded struct {
	sync.Mutex
	spills []Spill
	lost   int
}

// ForwardLost adds n messages that a descendant lost to what Flush reports.
func ForwardLost(n int) {
	forwarded.Lock()
	forwarded.lost += n
	forwarded.Unlock()
}

// Flush runs as a child exits, after it has joined its own children. Each
// feeder writes what it can: it goes on while readers make room, and stops
// once none has for an Interval. What is left (a frame being streamed in is
// taken back whole) is handed over: counted out of this process's backlog
// and returned as spills, with the spills of this process's children for
// queues it does not hold. Spills beyond budget bytes in all are dropped:
// Flush returns how many messages that lost, with those its descendants
// lost. Python's child instead waits for its feeders, and a parent that
// joins it before getting deadlocks (bpo-29797).
func Flush(budget int) (spills []Spill, lost int) {
	feeding.exiting.Store(true)
	feeding.Lock()
	qs := make([]*Queue, 0, len(feeding.queues))
	for q := range feeding.queues {
		qs = append(qs, q)
	}
	feeding.Unlock()
	feeding.wg.Wait()
	var all []Spill
	for _, q := range qs {
		if sp, ok := q.handover(); ok {
			all = append(all, sp)
		}
	}
	// The records of the queues this process holds are not needed any
	// more: free those that hold nothing back.
	registry.Lock()
	held := make([]*Queue, 0, len(registry.m))
	for _, wp := range registry.m {
		if q := wp.Value(); q != nil {
			held = append(held, q)
		}
	}
	registry.Unlock()
	for _, q := range held {
		if q.begin(false) == nil {
			if q.lock(context.Background(), time.Time{}) == nil {
				q.releaseLocked()
				q.mu.Unlock()
			}
			q.end()
		}
	}
	forwarded.Lock()
	all = append(all, forwarded.spills...)
	lost = forwarded.lost
	forwarded.spills, forwarded.lost = nil, 0
	forwarded.Unlock()
	for _, sp := range all {
		if len(sp.Frames) > budget {
			lost += sp.Count()
			continue
		}
		budget -= len(sp.Frames)
		spills = append(spills, sp)
	}
	return spills, lost
}

// handover takes this process's backlog out of the queue's accounting and
// returns it as a spill. The mutex is taken before the feeder's lock, the
// order a bounded Put takes them in.
func (q *Queue) handover() (Spill, bool) {
	if q.begin(false) != nil {
		return Spill{}, false
	}
	defer q.end()
	if err := q.lock(context.Background(), time.Time{}); err != nil {
		return Spill{}, false
	}
	f, m := &q.feed, q.mu
	f.mu.Lock()
	if f.st.active {
		q.abortStreamLocked(true)
		f.st = stream{}
	}
	backlog := f.backlog
	f.backlog = nil
	f.mu.Unlock()
	if n := uint64(len(backlog)); n > 0 {
		s := q.mySlot()
		m.Stage(q.table.FieldOff(s, fFed), q.table.Field(s, fFed).Load()+n)
		m.Stage(hHanded, q.handed.Load()+n)
		m.Commit()
	}
	m.Unlock()
	if len(backlog) == 0 {
		return Spill{}, false
	}
	q.notFull.Wake()
	size := 0
	for _, b := range backlog {
		size += wire.HeaderSize + len(b)
	}
	frames := make([]byte, 0, size)
	for _, b := range backlog {
		frames = wire.AppendFrame(frames, b)
	}
	return Spill{Queue: q.id, Frames: frames}, true
}

// Adopt puts on their queues the messages that a child handed over as it
// exited, as if this process had put them (ahead of nothing: they join its
// backlog). A spill for a queue this process does not hold is passed up in
// this process's own report when forward is set (a child), and counted
// lost otherwise; Adopt returns how many messages were lost, so that Join
// can say so. A bounded queue takes them even beyond its bound.
func Adopt(spills []Spill, forward bool) (lost int) {
	for _, sp := range spills {
		n, ok := countFrames(sp.Frames)
		if !ok || n == 0 {
			continue
		}
		if q := Lookup(sp.Queue); q != nil && q.adopt(sp.Frames, n) {
			continue
		}
		if forward {
			forwarded.Lock()
			forwarded.spills = append(forwarded.spills, sp)
			forwarded.Unlock()
			continue
		}
		lost += n
	}
	return lost
}

func (q *Queue) adopt(frames []byte, n int) bool {
	if q.begin(true) != nil {
		return false
	}
	defer q.end()
	if err := q.lock(context.Background(), time.Time{}); err != nil {
		return false
	}
	s, err := q.claimSlotLocked()
	if err == nil {
		q.table.Field(s, fEnq).Add(uint64(n))
	}
	q.mu.Unlock()
	if err != nil {
		return false
	}
	q.feed.mu.Lock()
	defer q.feed.mu.Unlock()
	for len(frames) > 0 {
		k := wire.HeaderSize + int(wire.Length(frames))
		q.feed.add(q, frames[wire.HeaderSize:k:k])
		frames = frames[k:]
	}
	return true
}
