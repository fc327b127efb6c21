//go:build unix && !linux

package mp

import "os"

// pipeBuf is PIPE_BUF: a write of at most this many bytes to a pipe is
// atomic, so producers in several processes need no lock for it. POSIX
// guarantees 512, which macOS has.
const pipeBuf = 512

// fionread is FIONREAD, the ioctl that tells how many bytes a pipe holds:
// _IOR('f', 127, int) on macOS and the BSDs, which x/sys/unix does not
// name.
const fionread = 0x4004667f

// pipeRoom is unknown here: macOS and the BSDs do not tell a pipe's
// capacity.
func pipeRoom(*os.File) (int, bool) { return 0, false }
