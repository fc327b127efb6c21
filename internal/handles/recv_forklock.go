//go:build unix && !(linux || freebsd || netbsd || openbsd || dragonfly)

package handles

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// recvmsg receives one message and makes its descriptors close-on-exec.
// macOS has no MSG_CMSG_CLOEXEC: as Go's net package does there, hold
// syscall.ForkLock while the descriptors exist without the flag, so that
// no process started meanwhile inherits them.
func recvmsg(fd int, p, oob []byte) (n, oobn, flags int, err error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	n, oobn, flags, _, err = unix.Recvmsg(fd, p, oob, 0)
	if err == nil {
		if msgs, perr := unix.ParseSocketControlMessage(oob[:oobn]); perr == nil {
			for _, m := range msgs {
				fds, _ := unix.ParseUnixRights(&m)
				for _, fd := range fds {
					unix.CloseOnExec(fd)
				}
			}
		}
	}
	return n, oobn, flags, err
}
