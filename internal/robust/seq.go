package robust

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// SeqSize is the size of a Seq in shared memory.
const SeqSize = 8

// seqSpin is how long Wait looks at the word before it sleeps.
const seqSpin = 50 * time.Microsecond

// Seq is a sequence word in shared memory that waiters wait to see change
// ("not empty", "not full"), with a count of waiters so that Wake costs a
// system call only when someone waits. One goroutine per process waits in
// the kernel; the others of the process wait for it to come back.
type Seq struct {
	word    *atomic.Uint32
	raw     *uint32 // the same word, for the kernel
	waiters *atomic.Uint32

	mu   sync.Mutex
	back chan struct{} // closed when the goroutine waiting in the kernel returns
}

// NewSeq returns this process's handle on the Seq at off in mem (SeqSize
// bytes, 4-byte aligned).
func NewSeq(mem []byte, off int) *Seq {
	w := Uint32At(mem, off)
	return &Seq{word: w, raw: (*uint32)(unsafe.Pointer(w)), waiters: Uint32At(mem, off+4)}
}

// Load returns the current value. Read it before looking at the condition
// waited for, and pass it to Wait: a change after the look then ends the
// wait at once.
func (s *Seq) Load() uint32 { return s.word.Load() }

// Wake changes the value and wakes every waiter, in every process.
func (s *Seq) Wake() {
	s.word.Add(1)
	if s.waiters.Load() > 0 {
		Wake(s.raw, 0)
	}
}

// WakeLocal wakes the waiters without changing the value: they return, look
// at their condition, and wait again (Close uses it to end waits in its own
// process promptly; others in other processes wake spuriously).
func (s *Seq) WakeLocal() {
	if s.waiters.Load() > 0 {
		Wake(s.raw, 0)
	}
}

// Wait waits until the value is no longer old, until passes, or done is
// closed, whichever comes first, and at most Interval; it may return
// spuriously. A zero until means no deadline but Interval's.
func (s *Seq) Wait(old uint32, until time.Time, done <-chan struct{}) {
	now := time.Now()
	end := now.Add(Interval)
	if !until.IsZero() && until.Before(end) {
		end = until
	}
	d := end.Sub(now)
	if d <= 0 || s.word.Load() != old {
		return
	}
	// A change often comes within microseconds (a producer on another
	// core): look a few times before paying for a sleep in the kernel, and
	// making the waker pay for a wakeup.
	for i := 0; ; i++ {
		if s.word.Load() != old {
			return
		}
		if i%16 == 15 {
			if time.Since(now) > seqSpin {
				break
			}
			runtime.Gosched()
		}
	}
	s.mu.Lock()
	if back := s.back; back != nil {
		// Another goroutine of this process waits in the kernel: wait for
		// it to come back.
		s.mu.Unlock()
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-back:
		case <-t.C:
		case <-done:
		}
		return
	}
	back := make(chan struct{})
	s.back = back
	s.mu.Unlock()
	s.waiters.Add(1)
	Wait(s.raw, old, d)
	s.waiters.Add(^uint32(0))
	s.mu.Lock()
	s.back = nil
	close(back)
	s.mu.Unlock()
}
