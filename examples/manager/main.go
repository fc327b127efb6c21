// Command manager shows Python's multiprocessing managers with mp: the
// docs' Manager example (a dict and a list, changed by a child), a
// registered type, a counter that workers increment atomically through a
// manager's dict, and a remote manager that a program serves on TCP with a
// key, with a client in another process.
//
//	go run ./examples/manager
//	go run ./examples/manager -workers 8 -increments 1000
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/go-mp/mp"

	"github.com/go-mp/mp/examples/internal/tutorial"
)

var (
	workers    = flag.Int("workers", 4, "processes incrementing the shared counter")
	increments = flag.Int("increments", 250, "increments each")
)

// main runs the managers step; mp.Main first, as always.
func main() {
	mp.Main() // in a child process: runs the target and exits
	defer mp.Shutdown()
	flag.Parse()
	if err := tutorial.Manager(tutorial.ManagerConfig{Workers: *workers, Increments: *increments}); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		mp.Shutdown()
		os.Exit(1)
	}
}
