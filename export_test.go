package mp

import (
	"os"
	"unsafe"
)

// ConnFiles returns the pipe ends under c, so that benchmarks can measure
// a raw pipe between the same two processes.
func ConnFiles(c *Conn) (r, w *os.File) { return c.rf, c.wf }

// SetMaxBoot sets the bootstrap's size limit, and returns a function that
// restores it.
func SetMaxBoot(n int) (restore func()) {
	old := maxBoot
	maxBoot = n
	return func() { maxBoot = old }
}

// LockScratch returns four spare words of a Lock's shared memory (its
// header's last 32 bytes), for the benchmarks' shared counter and turn
// until the shared-memory issue's Value exists.
func LockScratch(l *Lock) *[4]uint64 {
	return (*[4]uint64)(unsafe.Pointer(&l.c.obj.seg.Bytes()[32]))
}
