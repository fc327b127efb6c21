package mp

import "fmt"

// State is a process's scheduler state, as the operating system reports it.
type State string

// Scheduler states. The OS does not tell a process that is on a CPU from
// one that is ready and waiting for one: both are StateRunning.
const (
	StateRunning State = "running" // on a CPU, or ready to run (Python's psutil: running)
	StateBlocked State = "blocked" // sleeping, waiting for I/O, a lock, a timer or a child
	StateStopped State = "stopped" // stopped by a signal (SIGSTOP) or a debugger
	StateZombie  State = "zombie"  // exited, not yet reaped
	StateExited  State = "exited"  // exited and reaped: Join will not wait
)

// Status returns the child's scheduler state: on Linux from /proc, on
// macOS and the BSDs from ps(1). A Go program runs many threads; on Linux
// and macOS the process counts as running if any of its threads is (the
// BSDs' ps looks at one thread). On Windows, which reports no scheduler
// state, a live child is StateRunning. A child that has exited is
// StateExited.
func (p *Process) Status() (State, error) {
	p.mu.Lock()
	if p.role == roleChild {
		if err := p.checkChild(); err != nil {
			p.mu.Unlock()
			return "", err
		}
	}
	exited, pid := p.state == stateExited, p.pid
	p.mu.Unlock()
	if exited {
		return StateExited, nil
	}
	st, err := osStatus(int32(pid))
	if err != nil {
		select {
		case <-p.Done():
			return StateExited, nil // exited while we looked
		default:
		}
		return "", fmt.Errorf("mp: status of %s: %w", p.Name, err)
	}
	return st, nil
}
