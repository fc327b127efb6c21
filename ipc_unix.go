//go:build unix

package mp

import (
	"errors"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/go-mp/mp/internal/wire"
	"golang.org/x/sys/unix"
)

// newPipe returns a pipe. Both ends are non-blocking (os.Pipe makes them
// so), so reads take deadlines.
func newPipe() (r, w *os.File, err error) { return os.Pipe() }

// readTimeout reads into p, waiting at most d; d < 0 waits for ever and
// d == 0 makes one attempt. It returns errTimeout if nothing came.
func readTimeout(f *os.File, p []byte, d time.Duration) (int, error) {
	switch {
	case d < 0:
		return f.Read(p)
	case d == 0:
		rc, err := f.SyscallConn()
		if err != nil {
			return 0, err
		}
		var n int
		var rerr error
		if err := rc.Read(func(fd uintptr) bool {
			n, rerr = unix.Read(int(fd), p)
			return true
		}); err != nil {
			return 0, err
		}
		switch {
		case rerr == unix.EAGAIN:
			return 0, errTimeout
		case rerr != nil:
			return 0, rerr
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
	if err := f.SetReadDeadline(time.Now().Add(d)); err != nil {
		return 0, err
	}
	n, err := f.Read(p)
	_ = f.SetReadDeadline(time.Time{})
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return n, errTimeout
	}
	return n, err
}

// pipeAvail returns how many bytes f has to read.
func pipeAvail(f *os.File) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var ierr error
	if err := rc.Control(func(fd uintptr) { n, ierr = unix.IoctlGetInt(int(fd), fionread) }); err != nil {
		return 0, err
	}
	return n, ierr
}

const sharedSize = 4096

// newShared creates a page of memory shared with the children it is
// passed to: an unlinked temporary file, mapped.
func newShared() (*os.File, []byte, error) {
	f, err := os.CreateTemp("", "mp-shared-*")
	if err != nil {
		return nil, nil, err
	}
	_ = os.Remove(f.Name())
	if err := f.Truncate(sharedSize); err != nil {
		f.Close()
		return nil, nil, err
	}
	mem, err := mapShared(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, mem, nil
}

func mapShared(f *os.File) ([]byte, error) {
	return unix.Mmap(int(f.Fd()), 0, sharedSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
}

func unmapShared(mem []byte) { _ = unix.Munmap(mem) }

// writeFrames writes frames to the queue's pipe and returns how many bytes
// it wrote. It writes whole frames, up to PIPE_BUF bytes at a time, which
// a pipe takes whole or not at all, so frames of producers in other
// processes never land inside them; a larger frame is written alone,
// holding the write lock. While the process exits (flushQueues), a write
// that would wait for room stops at a frame boundary with errStopped.
func (q *Queue) writeFrames(b []byte) (int, error) {
	rc, err := q.w.SyscallConn()
	if err != nil {
		return 0, err
	}
	written := 0
	for written < len(b) {
		end := groupEnd(b, written)
		large := end-written > pipeBuf
		if large {
			if err := q.wlock.lock(-1); err != nil {
				return written, err
			}
			// A frame left half written could not be taken back at exit:
			// wait until the pipe has room for all of it (where it can).
			if err := waitRoom(q.w, end-written); err != nil {
				_ = q.wlock.unlock()
				return written, err
			}
		}
		n, err := writeGroup(rc, q.w, b[written:end])
		if large {
			_ = q.wlock.unlock()
		}
		written += n
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// groupEnd returns where the group of frames that starts at i ends: whole
// frames up to pipeBuf bytes, or one larger frame.
func groupEnd(b []byte, i int) int {
	end := i
	for end < len(b) {
		n := wire.HeaderSize + int(wire.Length(b[end:]))
		if end > i && end+n-i > pipeBuf {
			break
		}
		end += n
		if end-i > pipeBuf {
			break
		}
	}
	return end
}

func writeGroup(rc syscall.RawConn, f *os.File, g []byte) (int, error) {
	done := 0
	for {
		var werr error
		err := rc.Write(func(fd uintptr) bool {
			for done < len(g) {
				n, e := unix.Write(int(fd), g[done:])
				if n > 0 {
					done += n
				}
				switch {
				case e == unix.EINTR:
				case e == unix.EAGAIN:
					if done == 0 && feeding.exiting.Load() {
						werr = errStopped
						return true
					}
					return false // wait for room
				case e != nil:
					werr = e
					return true
				}
			}
			return true
		})
		switch {
		case werr != nil:
			return done, werr
		case err == nil:
			return done, nil
		case errors.Is(err, os.ErrDeadlineExceeded): // wakeWriter
			if done == 0 {
				return 0, errStopped
			}
			// Inside a large frame: it must be finished.
			_ = f.SetWriteDeadline(time.Time{})
		default:
			return done, err
		}
	}
}

// wakeWriter makes a feeder waiting for room in f give up (see writeGroup).
func wakeWriter(f *os.File) { _ = f.SetWriteDeadline(time.Now()) }

// waitRoom waits until the pipe under f can take n bytes at once, if the
// OS tells its room (Linux) and n fits in it at all. Readers wake writers
// only when the pipe was full, so there is no event for "room for n": it
// looks again every few milliseconds, backing off from 50 µs to 5 ms, and
// gives up with errStopped once the process exits.
func waitRoom(f *os.File, n int) error {
	pause := 50 * time.Microsecond
	for {
		room, ok := pipeRoom(f)
		if !ok || room >= n {
			return nil
		}
		if held, _ := pipeAvail(f); room+held < n {
			return nil // larger than the pipe: it is written in parts
		}
		if feeding.exiting.Load() {
			return errStopped
		}
		time.Sleep(pause)
		pause = min(2*pause, 5*time.Millisecond)
	}
}
