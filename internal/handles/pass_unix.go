//go:build unix

package handles

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// maxRights is how many descriptors one SCM_RIGHTS message carries: Linux
// refuses more than SCM_MAX_FD (253) in one.
const maxRights = 250

// Send passes files to the child at the other end of ch, the boot
// channel (a Unix-domain socket), as SCM_RIGHTS messages of one byte each.
// Each descriptor is duplicated while its File is held, so that a Close
// racing Send can never make it pass some other file that reused the
// number; the files' modes, blocking included, are left as they are.
func Send(ch *os.File, files []*os.File) error {
	if len(files) == 0 {
		return nil
	}
	fds := make([]int, 0, len(files))
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	for _, f := range files {
		rc, err := f.SyscallConn()
		if err != nil {
			return fmt.Errorf("passing %s: %w", f.Name(), err)
		}
		var dup int
		var derr error
		if err := rc.Control(func(fd uintptr) { dup, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
			return fmt.Errorf("passing %s: %w", f.Name(), err)
		}
		if derr != nil {
			return fmt.Errorf("passing %s: %w", f.Name(), os.NewSyscallError("fcntl", derr))
		}
		fds = append(fds, dup)
	}
	rc, err := ch.SyscallConn()
	if err != nil {
		return err
	}
	for rest := fds; len(rest) > 0; {
		chunk := rest[:min(len(rest), maxRights)]
		rest = rest[len(chunk):]
		oob := unix.UnixRights(chunk...)
		var serr error
		if err := rc.Write(func(fd uintptr) bool {
			serr = unix.Sendmsg(int(fd), []byte{'F'}, oob, nil, 0)
			return serr != unix.EAGAIN && serr != unix.EINTR // else wait for room
		}); err != nil {
			return err
		}
		if serr != nil {
			return os.NewSyscallError("sendmsg", serr)
		}
	}
	return nil
}

// Receive takes the n files that Send passed on ch, in order. It waits
// for them as long as ch's read deadline allows. The descriptors are
// close-on-exec, as mp's own files are.
func Receive(ch *os.File, n int) ([]*os.File, error) {
	if n == 0 {
		return nil, nil
	}
	if n < 0 || n > MaxFiles {
		return nil, fmt.Errorf("mp: receiving %d passed files: too many", n)
	}
	rc, err := ch.SyscallConn()
	if err != nil {
		return nil, err
	}
	fds := make([]int, 0, n)
	fail := func(err error) ([]*os.File, error) {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("mp: receiving passed files (%d of %d): %w", len(fds), n, err)
	}
	oob := make([]byte, unix.CmsgSpace(maxRights*4))
	for len(fds) < n {
		var buf [1]byte
		var got, oobn, flags int
		var rerr error
		if err := rc.Read(func(fd uintptr) bool {
			got, oobn, flags, rerr = recvmsg(int(fd), buf[:], oob)
			return rerr != unix.EAGAIN && rerr != unix.EINTR // else wait
		}); err != nil {
			return fail(err)
		}
		if rerr != nil {
			return fail(os.NewSyscallError("recvmsg", rerr))
		}
		msgs, perr := unix.ParseSocketControlMessage(oob[:oobn])
		for _, m := range msgs {
			more, err := unix.ParseUnixRights(&m)
			if err != nil && perr == nil {
				perr = err
			}
			fds = append(fds, more...)
		}
		switch {
		case perr != nil:
			return fail(perr)
		case flags&unix.MSG_CTRUNC != 0:
			return fail(errors.New("descriptors were dropped (is the descriptor limit reached?)"))
		case got == 0:
			return fail(io.ErrUnexpectedEOF)
		case len(fds) > n:
			return fail(errors.New("more files than announced"))
		}
	}
	files := make([]*os.File, n)
	for i, fd := range fds {
		files[i] = os.NewFile(uintptr(fd), "mp-passed")
	}
	return files, nil
}
