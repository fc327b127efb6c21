//go:build unix

package ready

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Now reports whether the descriptor under rc is readable, without
// waiting.
func Now(rc syscall.RawConn) (bool, error) {
	var ok bool
	var perr error
	if err := rc.Control(func(fd uintptr) { ok, perr = poll(int(fd), 0) }); err != nil {
		return false, err
	}
	return ok, perr
}

// Wait waits until the descriptor under rc is readable, and reports true;
// or until ctx is done, and returns false and ctx's error. It reads
// nothing, and leaves rc's deadlines alone.
func Wait(ctx context.Context, rc syscall.RawConn) (bool, error) {
	if ok, err := Now(rc); ok || err != nil {
		return ok, err
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	var dfd int
	var derr error
	if err := rc.Control(func(fd uintptr) { dfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return false, err
	}
	if derr != nil {
		return false, os.NewSyscallError("fcntl", derr)
	}
	// os.NewFile puts a non-blocking descriptor in the poller; the
	// duplicate shares the original's open file description, and so its
	// mode.
	f := os.NewFile(uintptr(dfd), "mp-ready")
	defer f.Close()
	if err := f.SetReadDeadline(time.Time{}); errors.Is(err, os.ErrNoDeadline) {
		return waitBlocking(ctx, f)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = f.SetReadDeadline(dl)
	}
	// A deadline in the past wakes the wait below.
	stop := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	frc, err := f.SyscallConn()
	if err != nil {
		return false, err
	}
	var perr error
	// Returning false makes the runtime park until the poller reports the
	// descriptor, or the deadline passes, and call again.
	err = frc.Read(func(fd uintptr) bool {
		ok, e := poll(int(fd), 0)
		perr = e
		return ok || e != nil
	})
	switch {
	case perr != nil:
		return false, perr
	case err == nil:
		return true, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return false, ctxErr(ctx)
	}
	return false, err
}

// slice bounds one poll(2) of a blocking descriptor.
const slice = 10 * time.Millisecond

// waitBlocking waits for a descriptor the poller cannot take, with poll(2)
// in slices, looking at ctx between them.
func waitBlocking(ctx context.Context, f *os.File) (bool, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return false, err
	}
	for {
		d := slice
		if dl, ok := ctx.Deadline(); ok {
			d = min(d, time.Until(dl))
		}
		if err := ctx.Err(); err != nil || d <= 0 {
			return false, ctxErr(ctx)
		}
		var ok bool
		var perr error
		if err := rc.Control(func(fd uintptr) { ok, perr = poll(int(fd), int((d+time.Millisecond-1)/time.Millisecond)) }); err != nil {
			return false, err
		}
		if ok || perr != nil {
			return ok, perr
		}
	}
}

// ctxErr is ctx's error once its deadline has passed, which the poller
// may see a moment before ctx does.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return context.DeadlineExceeded
}

// poll reports whether fd is readable, waiting up to ms milliseconds.
func poll(fd, ms int) (bool, error) {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, ms)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return false, os.NewSyscallError("poll", err)
		}
		return n > 0, nil
	}
}
