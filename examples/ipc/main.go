// Command ipc shows processes that talk, as Python's multiprocessing
// Queue and Pipe do: producer processes put jobs on an mp.Queue and a
// consumer process gets them, then the parent and a child play ping-pong
// over an mp.Pipe.
//
//	go run ./examples/ipc
//	go run ./examples/ipc -producers 4 -items 1000 -rounds 5
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/go-mp/mp"

	"github.com/go-mp/mp/examples/internal/tutorial"
)

var (
	producers = flag.Int("producers", 2, "producer processes")
	items     = flag.Int("items", 5, "jobs each producer puts")
	rounds    = flag.Int("rounds", 3, "ping-pong rounds")
)

// main runs the IPC step; mp.Main first, as always.
func main() {
	mp.Main() // in a child process: runs the target and exits
	defer mp.Shutdown()
	flag.Parse()
	if err := tutorial.IPC(tutorial.IPCConfig{Producers: *producers, Items: *items, Rounds: *rounds}); err != nil {
		fmt.Fprintln(os.Stderr, "ipc:", err)
		mp.Shutdown()
		os.Exit(1)
	}
}
