package mp

import "os"

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
