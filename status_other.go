//go:build !linux && !windows

package mp

func osStatus(pid int32) (State, error) { return statusOf(pid) }
