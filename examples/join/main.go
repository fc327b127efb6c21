// Command join starts three children that sleep 1, 2 and 3 seconds: first
// all at once and then joined, which takes about 3 seconds, the longest
// sleep; then one by one, each joined before the next starts, which takes
// about 6 seconds, the sleeps added up. It prints both times.
//
//	go run ./examples/join
//	go run ./examples/join -unit 200ms   # sleeps of 200, 400 and 600ms
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/go-mp/mp"

	"github.com/go-mp/mp/examples/internal/tutorial"
)

// unit scales the sleeps, for tests and the impatient.
var unit = flag.Duration("unit", time.Second, "the shortest sleep; the others are 2 and 3 times it")

// main runs the join step; mp.Main first, as always.
func main() {
	mp.Main() // in a child process: runs the target and exits
	defer mp.Shutdown()
	flag.Parse()
	if _, _, err := tutorial.Join(*unit); err != nil {
		fmt.Fprintln(os.Stderr, "join:", err)
		mp.Shutdown()
		os.Exit(1)
	}
}
