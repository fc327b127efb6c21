package mp

import (
	"errors"
	"io"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

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

// readTimeout reads into p, waiting at most d; d < 0 waits for ever and
// d == 0 makes one attempt. It returns errTimeout if nothing came.
func readTimeout(f *os.File, p []byte, d time.Duration) (int, error) {
	if d >= 0 {
		ok, err := waitReadable(f, d)
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, errTimeout
		}
	}
	n, err := f.Read(p)
	if errors.Is(err, windows.ERROR_BROKEN_PIPE) {
		err = io.EOF
	}
	return n, err
}

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

const sharedSize = 4096

// newShared creates a page of memory shared with the children it is
// passed to: a section backed by the paging file.
func newShared() (*os.File, []byte, error) {
	h, err := windows.CreateFileMapping(windows.InvalidHandle, nil, windows.PAGE_READWRITE, 0, sharedSize, nil)
	if err != nil {
		return nil, nil, os.NewSyscallError("CreateFileMapping", err)
	}
	f := os.NewFile(uintptr(h), "mp-shared")
	mem, err := mapShared(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, mem, nil
}

func mapShared(f *os.File) ([]byte, error) {
	addr, err := windows.MapViewOfFile(windows.Handle(f.Fd()), windows.FILE_MAP_WRITE, 0, 0, sharedSize)
	if err != nil {
		return nil, os.NewSyscallError("MapViewOfFile", err)
	}
	// The view is memory the system mapped, outside Go's heap: reading the
	// address as a pointer, rather than converting the uintptr, says so
	// to vet.
	p := *(*unsafe.Pointer)(unsafe.Pointer(&addr))
	return unsafe.Slice((*byte)(p), sharedSize), nil
}

func unmapShared(mem []byte) { _ = windows.UnmapViewOfFile(uintptr(unsafe.Pointer(&mem[0]))) }

// writeFrames writes frames to the queue's pipe, holding the write lock:
// this package does not rely on the atomicity of writes to an anonymous
// pipe on Windows (the lock is one atomic operation when uncontended).
// A write to an anonymous pipe cannot be interrupted on Windows, so a
// child exiting waits for its feeders there (see flushQueues).
func (q *Queue) writeFrames(b []byte) (int, error) {
	if err := q.wlock.lock(-1); err != nil {
		return 0, err
	}
	defer q.wlock.unlock()
	return q.w.Write(b)
}

func wakeWriter(*os.File) {}
