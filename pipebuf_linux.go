package mp

import (
	"os"

	"golang.org/x/sys/unix"
)

// pipeBuf is PIPE_BUF: a write of at most this many bytes to a pipe is
// atomic (pipe(7)), so producers in several processes need no lock for it.
const pipeBuf = 4096

// fionread is FIONREAD, the ioctl that tells how many bytes a pipe holds.
const fionread = unix.TIOCINQ

// pipeRoom returns how many bytes the pipe under f can take without
// blocking: its capacity (F_GETPIPE_SZ, Linux 2.6.35) less what it holds.
func pipeRoom(f *os.File) (int, bool) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, false
	}
	var size, held int
	var err1, err2 error
	if rc.Control(func(fd uintptr) {
		size, err1 = unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0)
		held, err2 = unix.IoctlGetInt(int(fd), fionread)
	}) != nil || err1 != nil || err2 != nil {
		return 0, false
	}
	return size - held, true
}
