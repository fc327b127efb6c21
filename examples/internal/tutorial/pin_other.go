//go:build !linux

package tutorial

import (
	"errors"
	"runtime"
)

// errNoPinning: the examples pin processes to a CPU on Linux only.
var errNoPinning = errors.New("CPU pinning is implemented for Linux (sched_setaffinity) only, not for " + runtime.GOOS)

// firstCPU fails: pinning is unavailable here.
func firstCPU() (int, error) { return 0, errNoPinning }

// pinProcess fails: pinning is unavailable here.
func pinProcess(int) error { return errNoPinning }
