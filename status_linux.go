package mp

import "github.com/shirou/gopsutil/v4/process"

// osStatus is the process's state, refined by its threads: /proc/PID/stat
// describes only the main thread, which in a Go program is often parked
// while goroutines run on other threads.
func osStatus(pid int32) (State, error) {
	st, err := statusOf(pid)
	if err != nil || st != StateBlocked {
		return st, err
	}
	pr, err := process.NewProcess(pid)
	if err != nil {
		return st, nil
	}
	threads, err := pr.Threads()
	if err != nil {
		return st, nil
	}
	for tid := range threads {
		if ts, err := statusOf(tid); err == nil && ts == StateRunning {
			return StateRunning, nil
		}
	}
	return st, nil
}
