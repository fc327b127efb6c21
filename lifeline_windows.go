package mp

import (
	"os"

	"github.com/go-mp/mp/internal/launch"
)

// watchTerminate does nothing on Windows: a graceful Terminate comes on
// the lifeline (see watch), as Windows has no signal to send.
func watchTerminate(*lifeline) {}

// dieTerminated ends the child as Terminate would have: with the exit
// code that ExitCode reports as -15.
func dieTerminated() { os.Exit(int(launch.TerminateCode)) }
