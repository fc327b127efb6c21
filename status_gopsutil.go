//go:build !linux && !windows

package mp

import (
	"errors"

	"github.com/shirou/gopsutil/v4/process"
)

// statusOf reads one task's state with gopsutil.
func statusOf(pid int32) (State, error) {
	pr, err := process.NewProcess(pid)
	if err != nil {
		return "", err
	}
	ss, err := pr.Status()
	if err != nil {
		return "", err
	}
	if len(ss) == 0 {
		return "", errors.New("no state reported")
	}
	switch ss[0] {
	case process.Running:
		return StateRunning, nil
	case process.Stop:
		return StateStopped, nil
	case process.Zombie:
		return StateZombie, nil
	default: // sleep, idle, blocked (D), lock, wait
		return StateBlocked, nil
	}
}
