// Command shared shows processes that share memory, as Python's
// multiprocessing Value, Array and shared_memory do: the example of
// Python's documentation (a child sets an mp.Value to pi and negates an
// mp.Array), workers that sum a shared array in parallel with no copy, and
// an mp.SharedMemory block that a child opens by its name.
//
//	go run ./examples/shared
//	go run ./examples/shared -workers 8 -n 10000000
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/go-mp/mp"

	"github.com/go-mp/mp/examples/internal/tutorial"
)

var (
	workers = flag.Int("workers", 4, "processes that sum the shared array")
	n       = flag.Int("n", 1_000_000, "numbers in the shared array: 1, 2, ..., n")
)

// main runs the shared memory step; mp.Main first, as always.
func main() {
	mp.Main() // in a child process: runs the target and exits
	defer mp.Shutdown()
	flag.Parse()
	if err := tutorial.Shared(tutorial.SharedConfig{Workers: *workers, N: *n}); err != nil {
		fmt.Fprintln(os.Stderr, "shared:", err)
		mp.Shutdown()
		os.Exit(1)
	}
}
