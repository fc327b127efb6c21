//go:build unix

package mp

import (
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
)

// psStatus reads a process's state with ps -o state= -p PID, whose first
// letter means the same on macOS, the BSDs and Linux: R runnable, T
// stopped, Z zombie; S, I, D, U, L and W are kinds of waiting. On macOS ps
// reports R if any of the process's threads is runnable. Each call starts
// ps: a few milliseconds.
func psStatus(pid int32) (State, error) {
	ps := "/bin/ps"
	if _, err := exec.LookPath(ps); err != nil {
		ps = "ps"
	}
	out, err := exec.Command(ps, "-o", "state=", "-p", strconv.Itoa(int(pid))).Output()
	if err != nil {
		// ps exits with 1, saying nothing, for a process that does not
		// exist.
		return "", fmt.Errorf("ps -o state= -p %d: %w", pid, err)
	}
	out = bytes.TrimSpace(out)
	if len(out) == 0 {
		return "", fmt.Errorf("ps -o state= -p %d: no state reported", pid)
	}
	switch out[0] {
	case 'R':
		return StateRunning, nil
	case 'T', 't':
		return StateStopped, nil
	case 'Z':
		return StateZombie, nil
	default:
		return StateBlocked, nil
	}
}
