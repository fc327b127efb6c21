package ready

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Back-off between looks at a descriptor.
const (
	pauseMin = 50 * time.Microsecond
	pauseMax = 5 * time.Millisecond
)

// Now reports whether the socket or pipe under rc is readable, without
// waiting.
func Now(rc syscall.RawConn) (bool, error) {
	var ok bool
	var lerr error
	if err := rc.Control(func(h uintptr) { ok, lerr = look(h, isSocket(h)) }); err != nil {
		return false, err
	}
	return ok, lerr
}

// Wait waits until the socket or pipe under rc is readable, and reports
// true; or until ctx is done, and returns false and ctx's error. It reads
// nothing.
func Wait(ctx context.Context, rc syscall.RawConn) (bool, error) {
	var socket bool
	if err := rc.Control(func(h uintptr) { socket = isSocket(h) }); err != nil {
		return false, err
	}
	var t *time.Timer
	for pause := pauseMin; ; pause = min(2*pause, pauseMax) {
		var ok bool
		var lerr error
		if err := rc.Control(func(h uintptr) { ok, lerr = look(h, socket) }); err != nil {
			return false, err
		}
		if ok || lerr != nil {
			return ok, lerr
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if t == nil {
			t = time.NewTimer(pause)
			defer t.Stop()
		} else {
			t.Reset(pause)
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-t.C:
		}
	}
}

// soType is SO_TYPE, which x/sys/windows does not define.
const soType = 0x1008

// isSocket reports whether h is a socket: getsockopt fails with
// WSAENOTSOCK for anything else.
func isSocket(h uintptr) bool {
	_, err := windows.GetsockoptInt(windows.Handle(h), windows.SOL_SOCKET, soType)
	return err == nil
}

// look reports whether h, a socket or a pipe, is readable.
func look(h uintptr, socket bool) (bool, error) {
	if socket {
		return lookSocket(h)
	}
	var avail uint32
	if r, _, e := procPeekNamedPipe.Call(h, 0, 0, 0, uintptr(unsafe.Pointer(&avail)), 0); r == 0 {
		if errors.Is(e, windows.ERROR_BROKEN_PIPE) {
			return true, nil // end of file: the read will say so
		}
		return false, os.NewSyscallError("PeekNamedPipe", e)
	}
	return avail > 0, nil
}

// pollFD is WSAPOLLFD.
type pollFD struct {
	fd      uintptr
	events  int16
	revents int16
}

const pollRDNORM = 0x0100

// lookSocket asks WSAPoll whether the socket h is readable (or has hung up
// or failed, which a read reports).
func lookSocket(h uintptr) (bool, error) {
	fds := [1]pollFD{{fd: h, events: pollRDNORM}}
	r, _, e := procWSAPoll.Call(uintptr(unsafe.Pointer(&fds[0])), 1, 0)
	if int32(r) < 0 {
		return false, os.NewSyscallError("WSAPoll", e)
	}
	return r > 0 && fds[0].revents != 0, nil
}

// x/sys/windows wraps neither PeekNamedPipe nor WSAPoll.
var (
	procPeekNamedPipe = windows.NewLazySystemDLL("kernel32.dll").NewProc("PeekNamedPipe")
	procWSAPoll       = windows.NewLazySystemDLL("ws2_32.dll").NewProc("WSAPoll")
)
