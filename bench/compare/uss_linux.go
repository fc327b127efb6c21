package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// uss returns the unique set size of process pid, in bytes: the memory
// that is its alone, Private_Clean plus Private_Dirty of its
// /proc/PID/smaps_rollup, as gopsutil's process.MemoryMaps sums them. It
// reads the file itself: gopsutil's process package links cgo (through
// os/user and net), and a dynamically linked binary, which this one would
// then be, starts every child mp re-executes about a millisecond slower,
// which is what the table measures.
func uss(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, err
	}
	var kb uint64
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) < 2 || (string(f[0]) != "Private_Clean:" && string(f[0]) != "Private_Dirty:") {
			continue
		}
		n, err := strconv.ParseUint(string(f[1]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("smaps_rollup of %d: %w", pid, err)
		}
		kb += n
		found++
	}
	if found != 2 {
		return 0, fmt.Errorf("smaps_rollup of %d: no Private_Clean and Private_Dirty", pid)
	}
	return float64(kb << 10), nil
}
