package mp

import "golang.org/x/sys/unix"

// pipeBuf is PIPE_BUF: a write of at most this many bytes to a pipe is
// atomic (pipe(7)), so producers in several processes need no lock for it.
const pipeBuf = 4096

// fionread is FIONREAD, the ioctl that tells how many bytes a pipe holds.
const fionread = unix.TIOCINQ
