package robust

import (
	"errors"

	"golang.org/x/sys/windows"
)

// errNoProcess: no process has the PID.
var errNoProcess = errors.New("mp: no such process")

// identify opens the process and reads its creation time; a process that
// has exited but whose handle someone still holds can be opened, so a
// zero-timeout wait on the handle tells whether it still runs.
func identify(pid int) (ID, bool, error) {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION|windows.SYNCHRONIZE, false, uint32(pid))
	if err != nil {
		if errors.Is(err, windows.ERROR_INVALID_PARAMETER) {
			return 0, false, errNoProcess
		}
		return 0, false, err
	}
	defer windows.CloseHandle(h)
	var creation, exit, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(h, &creation, &exit, &kernel, &user); err != nil {
		return 0, false, err
	}
	ev, err := windows.WaitForSingleObject(h, 0)
	if err != nil {
		return 0, false, err
	}
	start := uint64(creation.HighDateTime)<<32 | uint64(creation.LowDateTime)
	return makeID(pid, start), ev == uint32(windows.WAIT_TIMEOUT), nil
}
