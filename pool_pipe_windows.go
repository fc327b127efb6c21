package mp

import "os"

// taskPipeRoom: an anonymous pipe's free room is not known on Windows (its
// buffer is only advisory), so a pool prefetches at most prefetchMax.
func taskPipeRoom(*os.File) (int, bool) { return 0, false }
