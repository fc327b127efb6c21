package mp

import (
	"os"

	"github.com/go-mp/mp/internal/handles"
	"github.com/go-mp/mp/internal/launch"
)

// terminate ends the child with TerminateProcess and an exit code that
// ExitCode reports as -15, and kill with one it reports as -9; what the
// child started dies with it, in its Job Object.
func terminate(c *launch.Child) error { return c.Terminate(launch.TerminateCode) }

func kill(c *launch.Child) error { return c.Terminate(launch.KillCode) }

// noPdeathsig is Linux's (see spawn_unix.go).
const noPdeathsig = false

// sendFiles duplicates files into the child, while its process handle is
// valid, and sends it their values.
func sendFiles(c *launch.Child, files []*os.File) error {
	return handles.Send(c.Boot, c.WithProcess, files)
}
