package robust

import (
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Linux waits with futex(2): FUTEX_WAIT and FUTEX_WAKE without
// FUTEX_PRIVATE_FLAG, which key the wait on the page itself, so waiters and
// wakers in other processes that map it meet. The timeout is relative.
const (
	futexWait = 0 // FUTEX_WAIT
	futexWake = 1 // FUTEX_WAKE
)

func wait(addr *uint32, old uint32, d time.Duration) {
	deadline := time.Now().Add(d)
	for atomic.LoadUint32(addr) == old {
		ts := unix.NsecToTimespec(d.Nanoseconds())
		_, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWait, uintptr(old),
			uintptr(unsafe.Pointer(&ts)), 0, 0)
		// A wake, EAGAIN (the word changed) and ETIMEDOUT end the wait.
		// EINTR is a signal, most often the Go runtime's preemption
		// (SIGURG): wait on for what is left.
		if e != unix.EINTR {
			return
		}
		if d = time.Until(deadline); d <= 0 {
			return
		}
	}
}

func wake(addr *uint32, n int) {
	_, _, _ = unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWake, uintptr(n), 0, 0, 0)
}
