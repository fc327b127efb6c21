package tutorial

import (
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/go-mp/mp"
)

// UDPConfig configures the UDP step. The zero value of each field but Addr
// means the default noted.
type UDPConfig struct {
	// Addr is the server's address, host:port. Port 0 lets the server pick
	// a free port, which it reports to the client.
	Addr string
	// Timeout is how long the client waits for each answer (default 1s).
	Timeout time.Duration
	// Tries is how many times the client sends before it gives up
	// (default 3).
	Tries int
	// Drop makes the server ignore the first Drop datagrams it receives, as
	// a lossy network would.
	Drop int
	// NoServer leaves the server out: the client talks to whatever is at
	// Addr.
	NoServer bool
}

// defaults fills in the defaults of zero fields.
func (c *UDPConfig) defaults() {
	if c.Timeout <= 0 {
		c.Timeout = time.Second
	}
	if c.Tries <= 0 {
		c.Tries = 3
	}
}

// UDP runs the tutorial's UDP pair. The server, a child process, answers
// every datagram with "hi"; the client, here, sends "hello" and prints the
// answer and the address it came from. UDP promises nothing, so the client
// waits cfg.Timeout for each answer and sends at most cfg.Tries times; it
// returns an error, after saying so, when no answer came.
func UDP(cfg UDPConfig) error {
	cfg.defaults()
	raddr, err := net.ResolveUDPAddr("udp", cfg.Addr)
	if err != nil {
		return err
	}
	if !cfg.NoServer {
		srv, addr, err := startServer("udp-server", udpServer, cfg.Addr, cfg.Drop)
		if err != nil {
			return err
		}
		defer stopServer(srv)
		raddr = addr
	}

	// Python: s = socket.socket(AF_INET, SOCK_DGRAM); s.sendto(b'hello', addr)
	conn, err := net.ListenUDP("udp", localFor(raddr))
	if err != nil {
		return err
	}
	defer conn.Close()
	say("client: sending %q to %s", "hello", raddr)
	reply, from, err := ask(conn, raddr, cfg.Tries, cfg.Timeout,
		func() []byte { return []byte("hello") },
		func([]byte) bool { return true })
	if err != nil {
		say("client: %v", err)
		return err
	}
	// Python: data, addr = s.recvfrom(1024); print(data, addr)
	say("client: got %q from server %s", reply, from)
	return nil
}

// udpServer is the UDP server's target: it binds addr, reports its address
// to ready, and answers every datagram with "hi", ignoring the first drop
// of them. It runs until it is terminated.
func udpServer(addr, ready string, drop int) error {
	// Python: s = socket.socket(AF_INET, SOCK_DGRAM); s.bind(addr)
	conn, err := listen(addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	say("server: listening on %s", conn.LocalAddr())
	if err := notifyReady(conn, ready); err != nil {
		return err
	}
	buf := make([]byte, 1024)
	for n := 1; ; n++ {
		// Python: data, addr = s.recvfrom(1024)
		size, from, err := conn.ReadFromUDP(buf)
		if err != nil {
			return err
		}
		if n <= drop {
			say("server: dropping datagram %d, %q from %s (a lost datagram)", n, buf[:size], from)
			continue
		}
		say("server: got %q from %s, answering %q", buf[:size], from, "hi")
		// Python: s.sendto(b'hi', addr)
		if _, err := conn.WriteToUDP([]byte("hi"), from); err != nil {
			return err
		}
	}
}

// readyTimeout bounds how long startServer waits for a server that neither
// reports its address nor exits: generous, for a loaded machine.
const readyTimeout = 30 * time.Second

// startServer starts a UDP server process named name running target, whose
// first two parameters are the address to bind and the address to report
// readiness to, followed by args. It returns once the server is bound, with
// the server's address.
//
// mp has no queue or pipe between parent and child, so the server says it
// is ready with one datagram, sent from its own socket to one the parent
// opened: the datagram's source is the server's address, which is how a
// server bound to port 0 tells which port it got.
func startServer(name string, target any, addr string, args ...any) (*mp.Process, *net.UDPAddr, error) {
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, nil, err
	}
	// The server is on this machine: its readiness comes over loopback.
	loopback := net.IPv4(127, 0, 0, 1)
	if raddr.IP.To4() == nil && len(raddr.IP) > 0 {
		loopback = net.IPv6loopback
	}
	ready, err := net.ListenUDP("udp", &net.UDPAddr{IP: loopback})
	if err != nil {
		return nil, nil, err
	}
	defer ready.Close()

	p := mp.NewProcess(target, append([]any{addr, ready.LocalAddr().String()}, args...)...)
	p.Name = name
	if err := p.Start(); err != nil {
		return nil, nil, err
	}
	type result struct {
		from *net.UDPAddr
		err  error
	}
	got := make(chan result, 1)
	go func() {
		buf := make([]byte, 16)
		_ = ready.SetReadDeadline(time.Now().Add(readyTimeout))
		for {
			n, from, err := ready.ReadFromUDP(buf)
			if err != nil || string(buf[:n]) == "ready" {
				got <- result{from, err}
				return
			}
		}
	}()
	select {
	case r := <-got:
		if r.err == nil {
			return p, r.from, nil
		}
		err = fmt.Errorf("waiting for %s to be ready: %w", name, r.err)
	case <-p.Done():
		_ = ready.Close() // ends the reader
		<-got
		err = fmt.Errorf("%s exited before it was ready: %w", name, p.Join())
	}
	_ = stopChild(p, (*mp.Process).Kill)
	return nil, nil, err
}

// listen binds a UDP socket for a server.
func listen(addr string) (*net.UDPConn, error) {
	laddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	return net.ListenUDP("udp", laddr)
}

// notifyReady tells the parent that conn is bound; see startServer.
func notifyReady(conn *net.UDPConn, ready string) error {
	raddr, err := net.ResolveUDPAddr("udp", ready)
	if err != nil {
		return err
	}
	_, err = conn.WriteToUDP([]byte("ready"), raddr)
	return err
}

// stopServer terminates a server process and says how it ended.
func stopServer(p *mp.Process) {
	_ = stopChild(p, (*mp.Process).Terminate) // an *mp.ExitError: terminated
	code, _ := p.ExitCode()
	say("%s stopped (exit code %d: terminated)", p.Name, code)
}

// localFor is the local address for a socket that talks to raddr: the
// loopback address for a loopback peer, so that nothing listens beyond the
// machine, and any address otherwise.
func localFor(raddr *net.UDPAddr) *net.UDPAddr {
	if raddr.IP.IsLoopback() {
		return &net.UDPAddr{IP: raddr.IP}
	}
	return nil
}

// ask sends the request that request builds to the server at to and waits
// for a reply from it that accept accepts. UDP may lose the request or the
// reply, so ask waits at most timeout for each, and sends at most tries
// times; it builds the request anew each time (the time client puts the
// time of sending in it).
func ask(conn *net.UDPConn, to *net.UDPAddr, tries int, timeout time.Duration,
	request func() []byte, accept func([]byte) bool) ([]byte, *net.UDPAddr, error) {
	buf := make([]byte, 1024)
	for try := 1; try <= tries; try++ {
		if _, err := conn.WriteToUDP(request(), to); err != nil {
			return nil, nil, err
		}
		if err := conn.SetReadDeadline(time.Now().Add(timeout)); err != nil {
			return nil, nil, err
		}
		for {
			n, from, err := conn.ReadFromUDP(buf)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				say("client: no answer within %v (try %d of %d)", timeout, try, tries)
				break
			}
			if err != nil {
				return nil, nil, err
			}
			if !sameServer(from, to) || !accept(buf[:n]) {
				continue // a stray or stale datagram: keep waiting
			}
			return append([]byte(nil), buf[:n]...), from, nil
		}
	}
	return nil, nil, fmt.Errorf("no answer from %s after %d tries of %v each: giving up", to, tries, timeout)
}

// sameServer reports whether a datagram from from comes from the server at
// to (to may name the unspecified address, which any local address matches).
func sameServer(from, to *net.UDPAddr) bool {
	return from.Port == to.Port && (len(to.IP) == 0 || to.IP.IsUnspecified() || from.IP.Equal(to.IP))
}
