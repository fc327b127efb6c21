package launch

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// On Linux a child also gets PR_SET_PDEATHSIG = SIGKILL, so that it dies with
// its parent even before it reads its lifeline; not a child with a grace
// period, which its lifeline alone ends, as on the other Unixes. (A death
// signal it would handle could not be told from Terminate's SIGTERM: the
// kernel sends it when the creating thread exits, and a process killed
// with SIGKILL loses its threads one by one, so the child may still see
// its parent's PID as its own parent's.) The kernel sends the signal
// when the parent *thread* that created the child exits, not the process
// (golang/go#27505): a Go thread can exit while the process lives on (a
// goroutine that ends while locked to its thread takes the thread with it).
// So children are created from one goroutine locked to its thread, the
// launcher, which lives while any child it created is unreaped, and exits
// when none is, leaving no goroutine behind.
var launcher struct {
	mu   sync.Mutex
	live int            // children created by the launcher and not yet reaped
	reqs chan launchReq // nil while no launcher runs
}

type launchReq struct {
	cmd  *exec.Cmd
	done chan error
}

func launcherLoop(reqs chan launchReq) {
	runtime.LockOSThread()
	// No UnlockOSThread: when this goroutine returns, its thread exits too,
	// so no other goroutine ever runs on it. It returns only when no child
	// it created is alive.
	for r := range reqs {
		r.done <- r.cmd.Start()
	}
}

// sysProc is what a Linux child needs besides its os.Process.
type sysProc struct {
	onLauncher bool
}

// start starts cmd from the launcher thread.
func start(cmd *exec.Cmd, s *Spec) (sysProc, error) {
	if !s.NoPdeathsig && !s.Graceful {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	launcher.mu.Lock()
	if launcher.reqs == nil {
		launcher.reqs = make(chan launchReq)
		go launcherLoop(launcher.reqs)
	}
	launcher.live++ // keeps the launcher (and its thread) alive
	reqs := launcher.reqs
	launcher.mu.Unlock()

	r := launchReq{cmd: cmd, done: make(chan error, 1)}
	reqs <- r
	if err := <-r.done; err != nil {
		releaseLauncher()
		return sysProc{}, err
	}
	return sysProc{onLauncher: true}, nil
}

func releaseLauncher() {
	launcher.mu.Lock()
	defer launcher.mu.Unlock()
	launcher.live--
	if launcher.live == 0 {
		close(launcher.reqs)
		launcher.reqs = nil
	}
}

// release is called once the child has been reaped.
func (s sysProc) release() {
	if s.onLauncher {
		releaseLauncher()
	}
}
