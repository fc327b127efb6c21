package mp

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// osStatus reads the state letter of each of the process's threads from
// /proc/PID/task/TID/stat: /proc/PID/stat describes only the main thread,
// which in a Go program is often parked while goroutines run on other
// threads. The process is running if any thread is.
//
// Linux reads /proc itself rather than through gopsutil: gopsutil's
// process package imports os/user and net, and with them cgo, so every
// program importing mp would be linked dynamically and every child would
// start about 1 ms slower (measured: a re-exec of a binary importing mp
// took 4.2 ms with gopsutil, 3.1 ms with it statically linked, on a machine
// where a bare Go re-exec takes 1.9 ms).
func osStatus(pid int32) (State, error) {
	dir := "/proc/" + strconv.Itoa(int(pid))
	main, err := taskState(filepath.Join(dir, "stat"))
	if err != nil {
		return "", err
	}
	if main != StateBlocked {
		return main, nil
	}
	tasks, err := os.ReadDir(filepath.Join(dir, "task"))
	if err != nil {
		return main, nil
	}
	for _, t := range tasks {
		if st, err := taskState(filepath.Join(dir, "task", t.Name(), "stat")); err == nil && st == StateRunning {
			return StateRunning, nil
		}
	}
	return main, nil
}

// taskState parses the state field of a /proc stat file: the letter after
// the command name, which is in parentheses and may itself hold ')'.
func taskState(path string) (State, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return "", fmt.Errorf("unexpected contents of %s", path)
	}
	switch b[i+2] {
	case 'R':
		return StateRunning, nil
	case 'T', 't':
		return StateStopped, nil
	case 'Z', 'X':
		return StateZombie, nil
	default: // S sleeping, D disk wait, I idle, W paging, P parked
		return StateBlocked, nil
	}
}
