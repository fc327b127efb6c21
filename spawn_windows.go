package mp

import (
	"os"
	"time"

	"github.com/go-mp/mp/internal/bootstrap"
	"github.com/go-mp/mp/internal/handles"
	"github.com/go-mp/mp/internal/launch"
)

// terminate ends the child with TerminateProcess and an exit code that
// ExitCode reports as -15, and kill with one it reports as -9; what the
// child started dies with it, in its Job Object.
//
// A child with a grace period that has its bootstrap is asked on its
// lifeline instead, and ended a second after its grace period if it is
// still running then (it may not have reached its target, where it reads
// requests). p.mu is held.
func (p *Process) terminate(c *launch.Child) error {
	if p.GracePeriod <= 0 || !p.booted {
		return c.Terminate(launch.TerminateCode)
	}
	return c.Ask(bootstrap.Terminate, p.GracePeriod+time.Second, launch.TerminateCode)
}

func kill(c *launch.Child) error { return c.Terminate(launch.KillCode) }

// interrupt sends CTRL_BREAK_EVENT to the child's process group (Ctrl-C
// events are off in a new group).
func interrupt(c *launch.Child) error { return c.CtrlBreak() }

// noPdeathsig is Linux's (see spawn_unix.go).
const noPdeathsig = false

// sendFiles duplicates files into the child, while its process handle is
// valid, and sends it their values.
func sendFiles(c *launch.Child, files []*os.File) error {
	return handles.Send(c.Boot, c.WithProcess, files)
}
