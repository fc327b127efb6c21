//go:build unix

package mp

// PsStatus is how macOS and the BSDs read a process's state, exported so
// that Linux, whose ps takes the same options, tests it too.
func PsStatus(pid int) (State, error) { return psStatus(int32(pid)) }
