//go:build !linux

package main

import (
	"errors"
	"runtime"
)

// uss is Linux's (/proc/PID/smaps_rollup); elsewhere there is no figure.
func uss(int) (float64, error) {
	return 0, errors.New("no /proc/PID/smaps_rollup on " + runtime.GOOS)
}
