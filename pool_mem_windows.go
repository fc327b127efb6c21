package mp

import (
	"unsafe"

	"golang.org/x/sys/windows"
)

// processMemoryCounters is PROCESS_MEMORY_COUNTERS (psapi.h).
type processMemoryCounters struct {
	cb                         uint32
	PageFaultCount             uint32
	PeakWorkingSetSize         uintptr
	WorkingSetSize             uintptr
	QuotaPeakPagedPoolUsage    uintptr
	QuotaPagedPoolUsage        uintptr
	QuotaPeakNonPagedPoolUsage uintptr
	QuotaNonPagedPoolUsage     uintptr
	PagefileUsage              uintptr
	PeakPagefileUsage          uintptr
}

// K32GetProcessMemoryInfo is kernel32's name for psapi's
// GetProcessMemoryInfo since Windows 7; x/sys/windows does not wrap it.
var procGetProcessMemoryInfo = windows.NewLazySystemDLL("kernel32.dll").NewProc("K32GetProcessMemoryInfo")

// residentMemory returns this process's working set in bytes: what
// Windows keeps resident. It asks the system itself rather than through
// gopsutil, whose process package would link net into every program.
func residentMemory() (uint64, error) {
	var c processMemoryCounters
	c.cb = uint32(unsafe.Sizeof(c))
	r, _, err := procGetProcessMemoryInfo.Call(uintptr(windows.CurrentProcess()), uintptr(unsafe.Pointer(&c)), uintptr(c.cb))
	if r == 0 {
		return 0, err
	}
	return uint64(c.WorkingSetSize), nil
}
