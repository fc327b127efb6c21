//go:build unix

package mp

import "os"

// taskPipeRoom is pipeRoom: Linux tells, the other Unixes do not.
func taskPipeRoom(f *os.File) (int, bool) { return pipeRoom(f) }
