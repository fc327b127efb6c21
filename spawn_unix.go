//go:build unix

package mp

import (
	"os"
	"syscall"

	"github.com/go-mp/mp/internal/handles"
	"github.com/go-mp/mp/internal/launch"
)

// terminate sends the child SIGTERM, and kill SIGKILL, through the handle
// os.Process holds (a pidfd on Linux), never a bare PID. A child with a
// grace period handles SIGTERM itself (see watchTerminate). p.mu is held.
func (p *Process) terminate(c *launch.Child) error { return c.Signal(syscall.SIGTERM) }

func kill(c *launch.Child) error { return c.Signal(syscall.SIGKILL) }

// interrupt sends the child SIGINT.
func interrupt(c *launch.Child) error { return c.Signal(syscall.SIGINT) }

// noPdeathsig starts children without Linux's PR_SET_PDEATHSIG, so that
// tests can show the lifeline alone is enough (export_linux_test.go).
var noPdeathsig bool

// sendFiles passes files to the child over its boot socket.
func sendFiles(c *launch.Child, files []*os.File) error { return handles.Send(c.Boot, files) }
