// Command create is the tutorial's first multiprocessing program: the
// parent prints its PID and starts a child that prints its PID, its
// parent's PID, "<name> running", sleeps, and prints "<name> is over"; the
// parent waits for it with Join. Then the same with a Runner, Go's form of
// Python's Process subclass with a run method.
//
//	go run ./examples/create
//	go run ./examples/create -sleep 100ms
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/go-mp/mp"

	"github.com/go-mp/mp/examples/internal/tutorial"
)

// sleep scales the children's work, for tests and the impatient.
var sleep = flag.Duration("sleep", time.Second, "how long each child works (sleeps)")

// main runs the create step; mp.Main first, as always.
func main() {
	mp.Main() // in a child process: runs the target and exits
	defer mp.Shutdown()
	flag.Parse()
	if err := tutorial.Create(*sleep); err != nil {
		fmt.Fprintln(os.Stderr, "create:", err)
		mp.Shutdown()
		os.Exit(1)
	}
}
