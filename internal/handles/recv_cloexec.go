//go:build linux || freebsd || netbsd || openbsd || dragonfly

package handles

import "golang.org/x/sys/unix"

// recvmsg receives one message, its descriptors close-on-exec from
// birth.
func recvmsg(fd int, p, oob []byte) (n, oobn, flags int, err error) {
	n, oobn, flags, _, err = unix.Recvmsg(fd, p, oob, unix.MSG_CMSG_CLOEXEC)
	return n, oobn, flags, err
}
