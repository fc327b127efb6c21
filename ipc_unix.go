//go:build unix

package mp

import (
	"errors"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// newInheritedFile wraps an inherited descriptor. It is made close-on-exec,
// so that programs the child runs do not hold it, and non-blocking, so that
// the runtime's poller serves it and read deadlines work.
func newInheritedFile(h uintptr) *os.File {
	unix.CloseOnExec(int(h))
	var st unix.Stat_t
	if unix.Fstat(int(h), &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO {
		_ = unix.SetNonblock(int(h), true)
	}
	return os.NewFile(h, "mp-inherited")
}

// newPipe returns a pipe. Both ends are non-blocking (os.Pipe makes them
// so), so reads take deadlines.
func newPipe() (r, w *os.File, err error) { return os.Pipe() }

// pollRead reports whether f has something to read (or is at end of file),
// waiting at most d (d < 0: for ever). It reads nothing.
func pollRead(f *os.File, d time.Duration) (bool, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return false, err
	}
	ready := func(fd uintptr) bool {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		return err == nil && n > 0
	}
	if d == 0 {
		var ok bool
		if err := rc.Control(func(fd uintptr) { ok = ready(fd) }); err != nil {
			return false, err
		}
		return ok, nil
	}
	if d > 0 {
		if err := f.SetReadDeadline(time.Now().Add(d)); err != nil {
			return false, err
		}
		defer f.SetReadDeadline(time.Time{})
	}
	// The callback returning false makes the runtime wait for the poller
	// to report the descriptor readable (or the deadline) and call it
	// again.
	err = rc.Read(ready)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return false, nil
	}
	return err == nil, err
}

// socketReadable reports at once whether c has bytes to read or is at end
// of file.
func socketReadable(c net.Conn) (bool, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false, errors.ErrUnsupported
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false, err
	}
	var ready bool
	if err := rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		ready = err == nil && n > 0
	}); err != nil {
		return false, err
	}
	return ready, nil
}
