package tutorial

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// firstCPU returns the first CPU this process may run on.
func firstCPU() (int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return 0, fmt.Errorf("sched_getaffinity: %w", err)
	}
	for cpu := 0; cpu < 1024; cpu++ {
		if set.IsSet(cpu) {
			return cpu, nil
		}
	}
	return 0, errors.New("sched_getaffinity: no CPU allowed")
}

// pinProcess pins every thread of this process to cpu. sched_setaffinity
// pins one thread, and a Go program runs several; a thread created later
// inherits the mask of the thread that creates it, so once every thread is
// pinned the whole process stays pinned. Threads are listed until a pass
// finds no new one.
func pinProcess(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	pinned := map[int]bool{}
	for {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		found := false
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil || pinned[tid] {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("sched_setaffinity(%d, CPU %d): %w", tid, cpu, err)
			}
			pinned[tid], found = true, true
		}
		if !found {
			return nil
		}
	}
}
