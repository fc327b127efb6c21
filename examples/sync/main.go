// Command sync shows processes that coordinate, as Python's
// multiprocessing Lock, Event and Barrier do: workers add to a counter kept
// in a file under an mp.Lock, workers run until an mp.Event stops them, and
// workers go through rounds in lockstep at an mp.Barrier.
//
//	go run ./examples/sync
//	go run ./examples/sync -workers 8 -increments 1000 -rounds 5
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/go-mp/mp"

	"github.com/go-mp/mp/examples/internal/tutorial"
)

var (
	workers    = flag.Int("workers", 4, "worker processes in each part")
	increments = flag.Int("increments", 200, "increments of the shared counter by each worker")
	rounds     = flag.Int("rounds", 3, "rounds in lockstep")
)

// main runs the synchronisation step; mp.Main first, as always.
func main() {
	mp.Main() // in a child process: runs the target and exits
	defer mp.Shutdown()
	flag.Parse()
	if err := tutorial.Sync(tutorial.SyncConfig{Workers: *workers, Increments: *increments, Rounds: *rounds}); err != nil {
		fmt.Fprintln(os.Stderr, "sync:", err)
		mp.Shutdown()
		os.Exit(1)
	}
}
