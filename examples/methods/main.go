// Command methods walks through the process object, as the tutorial's
// "object methods" section does: CurrentProcess and ParentProcess, PIDs,
// default and given names, IsAlive, Status (the scheduler's state: a
// sleeping child is blocked, a computing one running), Terminate, IsAlive
// right after it and once the child has ended, and ExitCode.
//
//	go run ./examples/methods
package main

import (
	"fmt"
	"os"

	"github.com/go-mp/mp"

	"github.com/go-mp/mp/examples/internal/tutorial"
)

// main runs the process-object step; mp.Main first, as always.
func main() {
	mp.Main() // in a child process: runs the target and exits
	defer mp.Shutdown()
	if err := tutorial.Methods(); err != nil {
		fmt.Fprintln(os.Stderr, "methods:", err)
		mp.Shutdown()
		os.Exit(1)
	}
}
