//go:build !linux && !windows && !darwin

package robust

import (
	"errors"

	"github.com/shirou/gopsutil/v4/process"
)

// errNoProcess: no process has the PID.
var errNoProcess = errors.New("mp: no such process")

// identify asks gopsutil (sysctl kern.proc.pid on FreeBSD) for the
// process's start time and state. It is untested here (FreeBSD is only
// cross-compiled): the same rules as on Linux and macOS apply.
func identify(pid int) (ID, bool, error) {
	p, err := process.NewProcess(int32(pid))
	if err != nil {
		if errors.Is(err, process.ErrorProcessNotRunning) {
			return 0, false, errNoProcess
		}
		return 0, false, err
	}
	ms, err := p.CreateTime()
	if err != nil {
		if ok, _ := process.PidExists(int32(pid)); !ok {
			return 0, false, errNoProcess
		}
		return 0, false, err
	}
	running := true
	if st, err := p.Status(); err == nil && len(st) > 0 && st[0] == process.Zombie {
		running = false
	}
	return makeID(pid, uint64(ms)), running, nil
}
