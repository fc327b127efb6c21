// Command timeserver is the tutorial's remote time synchronisation, as a
// UDP time service. The server, a child process, answers each request with
// its clock; the client, in the main process, takes four timestamps per
// exchange, as NTP does (t0 request sent, t1 received by the server, t2
// answer sent by the server, t3 answer received), and prints the round-trip
// delay (t3-t0)-(t2-t1) and the clock offset ((t1-t0)+(t2-t3))/2 of each
// exchange, then of the one with the smallest delay.
//
// Both processes run on one machine and read one clock, so the offset is
// about zero; -skew adds to the server's clock to play a remote machine
// whose clock is off.
//
//	go run ./examples/timeserver
//	go run ./examples/timeserver -skew 1.5s
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/go-mp/mp"

	"github.com/go-mp/mp/examples/internal/tutorial"
)

var (
	addr    = flag.String("addr", "127.0.0.1:9001", "time server `address`; port 0 picks a free port")
	samples = flag.Int("samples", 4, "how many exchanges to make")
	timeout = flag.Duration("timeout", 0, "how long the client waits for each answer (default 1s)")
	tries   = flag.Int("tries", 0, "how many times the client sends each request before giving up (default 3)")
	skew    = flag.Duration("skew", 0, "added to the server's clock")
)

// main runs the client here and the time server in a child process.
func main() {
	mp.Main() // in a child process: runs the time server and exits
	defer mp.Shutdown()
	flag.Parse()
	_, err := tutorial.TimeSync(tutorial.TimeConfig{Addr: *addr, Samples: *samples, Timeout: *timeout, Tries: *tries, Skew: *skew})
	if err != nil {
		fmt.Fprintln(os.Stderr, "timeserver:", err)
		mp.Shutdown()
		os.Exit(1)
	}
}
