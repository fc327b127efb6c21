package mp

// osStatus: Windows reports no scheduler state for a process (gopsutil
// does not implement Status there), so a live child is running.
func osStatus(int32) (State, error) { return StateRunning, nil }
