// Command udp is the tutorial's UDP pair: a server, run as a child process,
// answers every datagram with "hi"; the client, in the main process, sends
// "hello" and prints the answer and the server's address. UDP loses
// datagrams, so the client waits a while for each answer, tries a bounded
// number of times, and says so when no answer came (exit code 1).
//
//	go run ./examples/udp                      # server on 127.0.0.1:9000
//	go run ./examples/udp -addr 127.0.0.1:0    # any free port
//	go run ./examples/udp -addr 127.0.0.1:0 -drop 1 -timeout 300ms
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/go-mp/mp"

	"github.com/go-mp/mp/examples/internal/tutorial"
)

var (
	addr     = flag.String("addr", "127.0.0.1:9000", "server `address`; port 0 picks a free port")
	timeout  = flag.Duration("timeout", 0, "how long the client waits for each answer (default 1s)")
	tries    = flag.Int("tries", 0, "how many times the client sends before giving up (default 3)")
	drop     = flag.Int("drop", 0, "the server ignores its first `n` datagrams, as a lossy network would")
	noServer = flag.Bool("no-server", false, "start no server: talk to whatever is at -addr")
)

// main runs the client here and the server in a child process.
func main() {
	mp.Main() // in a child process: runs the server and exits
	defer mp.Shutdown()
	flag.Parse()
	err := tutorial.UDP(tutorial.UDPConfig{Addr: *addr, Timeout: *timeout, Tries: *tries, Drop: *drop, NoServer: *noServer})
	if err != nil {
		fmt.Fprintln(os.Stderr, "udp:", err)
		mp.Shutdown()
		os.Exit(1)
	}
}
