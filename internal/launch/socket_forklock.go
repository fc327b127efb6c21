//go:build unix && !(linux || freebsd || netbsd || openbsd || dragonfly)

package launch

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// socketpair returns a connected pair of Unix-domain stream sockets, both
// close-on-exec. macOS has no SOCK_CLOEXEC: as Go's net package does
// there, hold syscall.ForkLock while the descriptors exist without the
// flag, so that no child started meanwhile inherits them.
func socketpair() ([2]int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err == nil {
		unix.CloseOnExec(fds[0])
		unix.CloseOnExec(fds[1])
	}
	return fds, err
}
