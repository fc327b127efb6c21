// Command isolation is the tutorial's money program: processes share no
// memory. The global money is 100; a child sets it to 999 and prints it;
// the parent, after joining the child, still has 100. It is so under both
// start methods.
//
// Then a global registered with isolation.Inherit: the parent sets it to
// 500 before Start; a child started with Fork, which carries registered
// globals as of Start, sees 500; a child started with Spawn sees the
// initial value. Neither can change the parent's.
//
//	go run ./examples/isolation
package main

import (
	"fmt"
	"os"

	"github.com/go-mp/mp"

	"github.com/go-mp/mp/examples/internal/tutorial"
)

// main runs the isolation step; mp.Main first, as always.
func main() {
	mp.Main() // in a child process: runs the target and exits
	defer mp.Shutdown()
	if err := tutorial.Isolation(); err != nil {
		fmt.Fprintln(os.Stderr, "isolation:", err)
		mp.Shutdown()
		os.Exit(1)
	}
}
