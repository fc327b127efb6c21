// Command pool shows a pool of worker processes, as Python's
// multiprocessing.Pool: the docs' map, imap_unordered, apply_async with a
// timeout, a worker killed mid-task (the task fails, the pool goes on), a
// word count in map-reduce form, and a progress bar over Imap.
//
//	go run ./examples/pool
//	go run ./examples/pool -workers 4 -items 100 README.md doc.go
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/go-mp/mp"

	"github.com/go-mp/mp/examples/internal/tutorial"
)

var (
	workers = flag.Int("workers", 0, "worker processes (0: one per CPU)")
	slow    = flag.Duration("slow", 10*time.Second, "the task apply_async gives up on")
	timeout = flag.Duration("timeout", time.Second, "how long it waits for it")
	items   = flag.Int("items", 50, "tasks of 20ms under the progress bar")
)

// main runs the Pool step; mp.Main first, as always. The files named on
// the command line are the word count's input.
func main() {
	mp.Main() // in a child process: runs the target and exits
	defer mp.Shutdown()
	flag.Parse()
	err := tutorial.Pool(tutorial.PoolConfig{Workers: *workers, Slow: *slow, Timeout: *timeout,
		Files: flag.Args(), Items: *items, Progress: os.Stdout})
	if err != nil {
		fmt.Fprintln(os.Stderr, "pool:", err)
		mp.Shutdown()
		os.Exit(1)
	}
}
