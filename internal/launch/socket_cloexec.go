//go:build linux || freebsd || netbsd || openbsd || dragonfly

package launch

import "golang.org/x/sys/unix"

// socketpair returns a connected pair of Unix-domain stream sockets, both
// close-on-exec from birth.
func socketpair() ([2]int, error) {
	return unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
}
