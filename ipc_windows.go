package mp

import (
	"errors"
	"net"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// newInheritedFile wraps an inherited handle, made non-inheritable so that
// programs the child starts do not hold it.
func newInheritedFile(h uintptr) *os.File {
	_ = windows.SetHandleInformation(windows.Handle(h), windows.HANDLE_FLAG_INHERIT, 0)
	return os.NewFile(h, "mp-inherited")
}

// pipeSize is the buffer of the pipes newPipe creates: os.Pipe's default
// is one page, too small for the tokens of a bounded queue.
const pipeSize = 64 << 10

// newPipe returns an anonymous pipe with a 64 KiB buffer.
func newPipe() (r, w *os.File, err error) {
	var rh, wh windows.Handle
	if err := windows.CreatePipe(&rh, &wh, nil, pipeSize); err != nil {
		return nil, nil, os.NewSyscallError("CreatePipe", err)
	}
	return os.NewFile(uintptr(rh), "|0"), os.NewFile(uintptr(wh), "|1"), nil
}

// Anonymous pipes have no read deadlines on Windows (os.ErrNoDeadline) and
// no overlapped I/O, so a read that must time out first waits, looking
// with PeekNamedPipe, for bytes to arrive. The look backs off from 50 µs
// to 5 ms: a timed wait costs at most 5 ms more than it must. A read
// without a timeout blocks in ReadFile.
const (
	pollMin = 50 * time.Microsecond
	pollMax = 5 * time.Millisecond
)

// waitReadable waits at most d (d < 0: for ever) for f to have bytes or be
// at end of file.
func waitReadable(f *os.File, d time.Duration) (bool, error) {
	deadline := time.Now().Add(d)
	pause := pollMin
	for {
		n, err := pipeAvail(f)
		if err != nil {
			if errors.Is(err, windows.ERROR_BROKEN_PIPE) {
				return true, nil // end of file: the read will say so
			}
			return false, err
		}
		if n > 0 {
			return true, nil
		}
		if d >= 0 && !time.Now().Before(deadline) {
			return false, nil
		}
		wait := pause
		if d >= 0 {
			wait = min(wait, time.Until(deadline))
		}
		time.Sleep(max(wait, 0))
		pause = min(2*pause, pollMax)
	}
}

// pollRead reports whether f has something to read (or is at end of file),
// waiting at most d (d < 0: for ever). It reads nothing.
func pollRead(f *os.File, d time.Duration) (bool, error) { return waitReadable(f, d) }

// x/sys/windows has no wrapper for PeekNamedPipe.
var procPeekNamedPipe = windows.NewLazySystemDLL("kernel32.dll").NewProc("PeekNamedPipe")

// pipeAvail returns how many bytes f has to read.
func pipeAvail(f *os.File) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var avail uint32
	var perr error
	if err := rc.Control(func(h uintptr) {
		r, _, e := procPeekNamedPipe.Call(h, 0, 0, 0, uintptr(unsafe.Pointer(&avail)), 0)
		if r == 0 {
			perr = e
		}
	}); err != nil {
		return 0, err
	}
	return int(avail), perr
}

// socketReadable is not implemented on Windows: Poll(0) of a socket waits
// a millisecond instead.
func socketReadable(net.Conn) (bool, error) { return false, errors.ErrUnsupported }
