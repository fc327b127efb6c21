//go:build !linux && !windows

package mp

// osStatus asks ps(1), as gopsutil does on macOS (see psStatus). macOS
// gives the process-level state (kinfo_proc's p_stat, from sysctl
// kern.proc.pid) as SRUN for every live process, sleeping or not; the
// per-thread states ps reads come from proc_pidinfo, which x/sys does not
// wrap. gopsutil itself is not used: its process package imports net and
// os/user, which would link every program importing mp dynamically.
func osStatus(pid int32) (State, error) { return psStatus(pid) }
