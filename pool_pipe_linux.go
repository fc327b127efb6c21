package mp

import (
	"os"

	"golang.org/x/sys/unix"
)

// taskPipeRoom returns how many bytes the pipe under f takes without
// blocking: its capacity (F_GETPIPE_SZ, Linux 2.6.35) less what it holds
// (FIONREAD).
func taskPipeRoom(f *os.File) (int, bool) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, false
	}
	var size, held int
	var err1, err2 error
	if rc.Control(func(fd uintptr) {
		size, err1 = unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0)
		held, err2 = unix.IoctlGetInt(int(fd), unix.TIOCINQ)
	}) != nil || err1 != nil || err2 != nil {
		return 0, false
	}
	return size - held, true
}
