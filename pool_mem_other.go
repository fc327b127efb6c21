//go:build !linux && !windows

package mp

import (
	"os"

	"github.com/shirou/gopsutil/v4/process"
)

// residentMemory returns this process's resident memory in bytes, read
// with gopsutil (as Status is on these systems).
func residentMemory() (uint64, error) {
	p, err := process.NewProcess(int32(os.Getpid()))
	if err != nil {
		return 0, err
	}
	m, err := p.MemoryInfo()
	if err != nil {
		return 0, err
	}
	return m.RSS, nil
}
