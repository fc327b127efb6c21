package mp

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// residentMemory returns this process's resident memory in bytes, from
// /proc/self/statm (its second field, in pages). Linux reads it itself
// rather than through gopsutil, whose process package would link net and
// cgo into every program (see osStatus).
func residentMemory() (uint64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, err
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0, fmt.Errorf("mp: unexpected /proc/self/statm: %q", b)
	}
	pages, err := strconv.ParseUint(string(f[1]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("mp: unexpected /proc/self/statm: %q", b)
	}
	return pages * uint64(os.Getpagesize()), nil
}
