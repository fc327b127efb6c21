package ring

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mp/mp/internal/robust"
)

// feeder writes the messages this process put and could not write at once
// (its backlog), in order, from a goroutine that runs while there are any.
type feeder struct {
	mu      sync.Mutex
	backlog [][]byte
	running bool
	stuck   bool          // stopped at exit, with a backlog left for Flush
	idle    chan struct{} // closed when the goroutine stops
	st      stream        // the frame being streamed in (backlog[0]); the goroutine's own
}

// feeding tracks the queues of this process whose feeder runs, which Flush
// stops at exit.
var feeding = struct {
	sync.Mutex
	wg      sync.WaitGroup
	queues  map[*Queue]struct{}
	exiting atomic.Bool
}{queues: map[*Queue]struct{}{}}

// add appends msg to the backlog and starts the goroutine. f.mu is held.
func (f *feeder) add(q *Queue, msg []byte) {
	f.backlog = append(f.backlog, msg)
	if !f.running && !f.stuck {
		f.running = true
		f.idle = make(chan struct{})
		feeding.Lock()
		feeding.wg.Add(1)
		feeding.queues[q] = struct{}{}
		feeding.Unlock()
		go f.loop(q)
	}
}

// wait waits until the goroutine has stopped.
func (f *feeder) wait() {
	f.mu.Lock()
	idle := f.idle
	f.mu.Unlock()
	if idle != nil {
		<-idle
	}
}

func (f *feeder) loop(q *Queue) {
	defer feeding.wg.Done()
	stuck := false
	lastMove := time.Now()
	for {
		f.mu.Lock()
		batch := f.backlog
		if len(batch) == 0 || stuck {
			f.running, f.stuck = false, stuck
			close(f.idle)
			f.mu.Unlock()
			feeding.Lock()
			if !stuck {
				delete(feeding.queues, q)
			}
			feeding.Unlock()
			return
		}
		f.mu.Unlock()

		nf := q.notFull.Load()
		head := q.head.Load()
		var n int
		var moved bool
		if err := q.lock(context.Background(), time.Time{}); err == nil {
			n, moved = q.writeLocked(batch, &f.st)
			q.mu.Unlock()
		}
		if moved {
			q.notEmpty.Wake()
			if n > 0 && q.sWriter.Load() == 0 {
				q.notFull.Wake() // a stream ended: other producers may go on
			}
		}
		if n > 0 {
			f.mu.Lock()
			clear(f.backlog[:n]) // let the messages be collected
			f.backlog = f.backlog[n:]
			if len(f.backlog) == 0 {
				f.backlog = nil
			}
			f.mu.Unlock()
		}
		if moved || q.head.Load() != head {
			lastMove = time.Now()
		}
		if moved {
			continue
		}
		// No room: wait for a reader to make some. A child that exits stops
		// once no reader has made room for a whole Interval, and Flush
		// hands the rest to its parent.
		if feeding.exiting.Load() && time.Since(lastMove) >= robust.Interval {
			stuck = true
			continue
		}
		q.notFull.Wait(nf, time.Time{}, nil)
		q.sweep(context.Background(), time.Time{}, false)
	}
}
