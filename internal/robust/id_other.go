//go:build !linux && !windows && !darwin && !(freebsd && (amd64 || arm64 || riscv64))

package robust

import (
	"errors"

	"golang.org/x/sys/unix"
)

// errNoProcess: no process has the PID.
var errNoProcess = errors.New("mp: no such process")

// identify is the fallback where this package does not read a process's
// start time (the other BSDs, 32-bit FreeBSD): an ID is the PID alone
// (see Self), and a process is alive while signal 0 reaches its PID. It
// cannot tell a zombie from a live process, nor a reused PID from its
// first owner: a lock held by a process that died stays held until its
// parent reaps it, and mp reaps its children as they exit.
func identify(pid int) (ID, bool, error) {
	if err := unix.Kill(pid, 0); errors.Is(err, unix.ESRCH) {
		return 0, false, errNoProcess
	}
	return ID(uint64(uint32(pid)) << 32), true, nil
}
