//go:build !linux

package mp

import "os"

// taskPipeRoom: macOS and the BSDs do not tell a pipe's capacity, and a
// Windows anonymous pipe's buffer is only advisory, so a pool prefetches at
// most prefetchMax there.
func taskPipeRoom(*os.File) (int, bool) { return 0, false }
