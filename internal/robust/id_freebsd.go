//go:build freebsd && (amd64 || arm64 || riscv64)

package robust

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// errNoProcess: no process has the PID.
var errNoProcess = errors.New("mp: no such process")

// kinfoProc is the beginning of FreeBSD's struct kinfo_proc (sys/user.h)
// on its 64-bit architectures, up to ki_stat: x/sys has no type for it,
// and gopsutil, which has, links net and cgo into every program.
type kinfoProc struct {
	Structsize int32
	Layout     int32
	_          [8]uint64 // ki_args ... ki_wchan
	Pid        int32
	_          [5]int32 // ki_ppid ... ki_tsid
	_          [2]int16 // ki_jobc, ki_spare_short1
	_          uint32   // ki_tdev_freebsd11
	_          [64]byte // ki_siglist, ki_sigmask, ki_sigignore, ki_sigcatch
	_          [5]uint32
	_          [2]int16
	_          [16]uint32 // ki_groups
	_          [6]uint64  // ki_size, ki_rssize ... ki_ssize
	_          [2]uint16  // ki_xstat, ki_acflag
	_          [5]uint32  // ki_pctcpu ... ki_cow
	_          uint64     // ki_runtime
	Start      unix.Timeval
	_          unix.Timeval // ki_childtime
	_          [2]int64     // ki_flag, ki_kiflag
	_          int32        // ki_traceflag
	Stat       int8
}

// sZomb is SZOMB in <sys/proc.h>.
const sZomb = 5

// identify reads the process's kinfo_proc (sysctl kern.proc.pid): its
// start time and state. It is untested here (FreeBSD is only
// cross-compiled): the layout follows sys/user.h for 64-bit FreeBSD.
func identify(pid int) (ID, bool, error) {
	b, err := unix.SysctlRaw("kern.proc.pid", pid)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return 0, false, errNoProcess
		}
		return 0, false, err
	}
	var k kinfoProc
	if len(b) < int(unsafe.Sizeof(k)) {
		return 0, false, errNoProcess // no record: no such process
	}
	k = *(*kinfoProc)(unsafe.Pointer(&b[0]))
	if int(k.Pid) != pid {
		return 0, false, errNoProcess
	}
	start := uint64(k.Start.Sec)*1_000_000 + uint64(k.Start.Usec)
	return makeID(pid, start), k.Stat != sZomb, nil
}
