package robust

import (
	"errors"

	"golang.org/x/sys/unix"
)

// errNoProcess: no process has the PID.
var errNoProcess = errors.New("mp: no such process")

// sZomb is SZOMB in <sys/proc.h>.
const sZomb = 5

// identify reads the process's kinfo_proc (sysctl kern.proc.pid): its
// start time and state. For a PID with no process the sysctl returns no
// record, which x/sys reports as an error of its own (EIO); ESRCH is taken
// the same way.
func identify(pid int) (ID, bool, error) {
	k, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil {
		if errors.Is(err, unix.EIO) || errors.Is(err, unix.ESRCH) {
			return 0, false, errNoProcess
		}
		return 0, false, err
	}
	if int(k.Proc.P_pid) != pid {
		return 0, false, errNoProcess
	}
	t := k.Proc.P_starttime
	start := uint64(t.Sec)*1_000_000 + uint64(t.Usec)
	return makeID(pid, start), k.Proc.P_stat != sZomb, nil
}
