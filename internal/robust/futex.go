package robust

import (
	"math"
	"time"
)

// Interval bounds every wait in shared memory: a waiter looks at least this
// often at whether the process it waits for (a lock's holder, a stream's
// writer) is still alive, so a dead one is noticed within about Interval.
const Interval = 100 * time.Millisecond

// Wait waits while *addr holds old, at most d, in any process that maps the
// word. It may return early, spuriously: callers look again at what they wait
// for. d <= 0 returns at once. Wait blocks its OS thread; callers keep one
// goroutine per process in it (see Seq).
func Wait(addr *uint32, old uint32, d time.Duration) {
	if d <= 0 {
		return
	}
	wait(addr, old, d)
}

// Wake wakes up to n waiters on addr in every process (n <= 0: all).
func Wake(addr *uint32, n int) {
	if n <= 0 || n > math.MaxInt32 {
		n = math.MaxInt32
	}
	wake(addr, n)
}
