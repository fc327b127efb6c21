//go:build !linux

package robust

import (
	"sync/atomic"
	"time"
)

// Other systems have kernel primitives for this too (WaitOnAddress is
// limited to one process on Windows; macOS's __ulock_wait with
// UL_COMPARE_AND_WAIT_SHARED and FreeBSD's _umtx_op with UMTX_OP_WAIT_UINT
// are not, but cannot be tested here). They look at the word instead,
// sleeping between looks, backing off from pollMin to pollMax: a waiter
// notices a change at most pollMax late, and an idle one costs a wakeup per
// pollMax.
const (
	pollMin = 50 * time.Microsecond
	pollMax = time.Millisecond
)

func wait(addr *uint32, old uint32, d time.Duration) {
	deadline := time.Now().Add(d)
	pause := pollMin
	for atomic.LoadUint32(addr) == old {
		rest := time.Until(deadline)
		if rest <= 0 {
			return
		}
		time.Sleep(min(pause, rest))
		pause = min(2*pause, pollMax)
	}
}

// wake has nothing to do: waiters look by themselves.
func wake(*uint32, int) {}
