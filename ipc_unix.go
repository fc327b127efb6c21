//go:build unix

package mp

import "os"

// newPipe returns a pipe. Both ends are non-blocking (os.Pipe makes them
// so), so reads take deadlines.
func newPipe() (r, w *os.File, err error) { return os.Pipe() }
