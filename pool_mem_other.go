//go:build unix && !linux

package mp

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// residentMemory returns this process's peak resident memory in bytes,
// getrusage's ru_maxrss: macOS and the BSDs tell a process its current
// resident size only through calls x/sys does not wrap (or ps, too slow to
// start after every chunk), and gopsutil would link net and cgo into every
// program. The peak serves: a worker whose memory has once passed the
// ceiling is the one to recycle, and its successor starts low.
func residentMemory() (uint64, error) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return uint64(ru.Maxrss), nil // bytes
	}
	return uint64(ru.Maxrss) * 1024, nil // KiB elsewhere
}
