package connection

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-mp/mp"
)

// Families of addresses.
const (
	// FamilyUnix is a Unix domain socket: a path.
	FamilyUnix = "unix"
	// FamilyTCP is TCP: host:port, on the loopback interface by default.
	FamilyTCP = "tcp"
)

// DefaultFamily is the family a Listener uses when none is given: Unix
// sockets on Unix, TCP on Windows (where Go has no named pipes and Wine no
// AF_UNIX).
func DefaultFamily() string {
	if runtime.GOOS == "windows" {
		return FamilyTCP
	}
	return FamilyUnix
}

// Defaults of a Listener's settings, and Client's bound on connecting and
// authenticating.
const (
	DefaultHandshakeTimeout = 20 * time.Second
	DefaultMaxHandshakes    = 256
)

// How long a handshake is left alone, when a new connection needs its
// place, before it may be dropped: a peer that has sent nothing for
// silentGrace, or any peer after slowGrace. A client with the key answers
// the challenge within a round trip and finishes within three; the
// margins are for a loaded machine (a client under the race detector on
// two busy cores has been seen to take over 100 ms to answer).
const (
	silentGrace = time.Second
	slowGrace   = 5 * time.Second
)

// Listener accepts authenticated connections, like Python's
// multiprocessing.connection.Listener. Each side proves that it knows the
// key before any message is decoded (see Client).
//
// From its first Accept until Close, a Listener accepts connections and
// authenticates them in the background, several at once; Accept returns
// them in the order their handshakes end. Set the exported fields before
// the first Accept; later changes have no effect.
type Listener struct {
	// HandshakeTimeout bounds the authentication of each connection, from
	// the moment it is accepted: a peer that has not proved its key by then
	// is disconnected. Zero means DefaultHandshakeTimeout (20 s).
	HandshakeTimeout time.Duration

	// MaxHandshakes bounds the connections being authenticated at once,
	// and the authenticated connections waiting for Accept. A connection
	// that arrives when MaxHandshakes handshakes are under way takes the
	// place of the oldest of them whose peer has sent nothing for a second
	// or more, which is dropped; failing that, of the oldest that has been
	// under way for 5 seconds or more; failing that, it waits for a place.
	// So silent or slow peers cannot keep others out for long, while a
	// burst of clients with the key, answering within a round trip, loses
	// none. Once MaxHandshakes connections wait for Accept, the Listener
	// accepts no more until Accept takes one: the rest wait in the
	// operating system's backlog. Zero means DefaultMaxHandshakes (256).
	MaxHandshakes int

	// LegacyMD5 lets peers authenticate with HMAC-MD5 and no digest name,
	// the only form Python 3.11 and older speak (see Client). If false,
	// such a peer is refused with an error that says so.
	LegacyMD5 bool

	// Rejected, if not nil, is called with the reason for each connection
	// the Listener closes without giving it to Accept: an error wrapping
	// mp.ErrAuth for a peer with another key, one that sent something else
	// than the handshake, one that took longer than HandshakeTimeout, or one
	// dropped for a newer connection (see MaxHandshakes). It is called from
	// the goroutines that run the handshakes, several at once, and Close
	// waits for it: it must not block. If Rejected is nil, rejections go
	// unreported; the peer itself learns of its failure.
	Rejected func(err error)

	ln  net.Listener
	key []byte
	dir string // the temporary directory of an automatic Unix socket

	start     sync.Once
	done      chan struct{}            // closed by Close
	ready     chan accepted            // authenticated, waiting for Accept
	last      atomic.Pointer[net.Addr] // the peer of the connection Accept last returned
	taken     chan struct{}            // Accept took a connection from ready
	freed     chan struct{}            // a handshake ended
	failed    chan error               // the last error of the listening socket
	timeout   time.Duration
	max       int
	mu        sync.Mutex
	closed    bool
	pending   []*handshake // oldest first
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// accepted is an authenticated connection and its peer's address.
type accepted struct {
	c    *mp.Conn
	peer net.Addr
}

// handshake is a connection being authenticated, and then the stream of
// its Conn.
type handshake struct {
	nc      net.Conn
	since   time.Time   // when it began
	heard   atomic.Bool // the peer has sent something
	dropped atomic.Bool // closed to make room (see MaxHandshakes)
}

// Read notes that the peer sent something, so that a silent peer can be
// told from a slow one.
func (h *handshake) Read(p []byte) (int, error) {
	n, err := h.nc.Read(p)
	if n > 0 && !h.heard.Load() {
		h.heard.Store(true)
	}
	return n, err
}

func (h *handshake) Write(p []byte) (int, error) { return h.nc.Write(p) }
func (h *handshake) Close() error                { return h.nc.Close() }

// SyscallConn gives Conn.Poll the socket's descriptor.
func (h *handshake) SyscallConn() (syscall.RawConn, error) {
	sc, ok := h.nc.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("%w: a %T has no descriptor", errors.ErrUnsupported, h.nc)
	}
	return sc.SyscallConn()
}

var _ syscall.Conn = (*handshake)(nil)
var _ io.ReadWriteCloser = (*handshake)(nil)

// Listen returns a Listener on address in family (FamilyUnix or
// FamilyTCP; "" for DefaultFamily). An empty address picks one: a fresh
// socket in a temporary directory, or a free port on 127.0.0.1. If
// authKey is nil, the key is mp.CurrentProcess().AuthKey, which children
// inherit, so that the processes of one tree can connect with no more
// said.
func Listen(family, address string, authKey []byte) (*Listener, error) {
	if family == "" {
		family = DefaultFamily()
	}
	l := &Listener{key: authKey}
	if l.key == nil {
		l.key = mp.CurrentProcess().AuthKey
	}
	switch family {
	case FamilyUnix:
		if address == "" {
			dir, err := os.MkdirTemp("", "mp-")
			if err != nil {
				return nil, fmt.Errorf("mp: listen: %w", err)
			}
			l.dir, address = dir, filepath.Join(dir, "listener")
		}
	case FamilyTCP:
		if address == "" {
			address = "127.0.0.1:0"
		}
	default:
		return nil, fmt.Errorf("mp: unknown address family %q (want %q or %q)", family, FamilyUnix, FamilyTCP)
	}
	ln, err := net.Listen(family, address)
	if err != nil {
		if l.dir != "" {
			os.RemoveAll(l.dir)
		}
		return nil, fmt.Errorf("mp: listen: %w", err)
	}
	l.ln = ln
	l.done = make(chan struct{})
	l.taken = make(chan struct{}, 1)
	l.freed = make(chan struct{}, 1)
	l.failed = make(chan error, 1)
	return l, nil
}

// Addr returns the listener's family and address, for Client.
func (l *Listener) Addr() (family, address string) {
	a := l.ln.Addr()
	return a.Network(), a.String()
}

// LastAccepted returns the address of the peer of the connection Accept
// returned last, or nil before the first: Python's last_accepted. A
// TCP peer's is its host and port; a Unix socket peer's is usually
// unnamed (an empty *net.UnixAddr), as in Python.
func (l *Listener) LastAccepted() net.Addr {
	if a := l.last.Load(); a != nil {
		return *a
	}
	return nil
}

// Accept waits for the next authenticated connection. It returns an error
// wrapping mp.ErrConnClosed once the Listener is closed, and the error of
// the listening socket if accepting fails (too many open files, say;
// the Listener tries again, backing off up to a second). Connections that
// fail their handshake are not returned: see Rejected.
func (l *Listener) Accept() (*mp.Conn, error) {
	select {
	case <-l.done:
		return nil, fmt.Errorf("%w: the listener is closed", mp.ErrConnClosed)
	default:
	}
	l.start.Do(l.run)
	select {
	case a := <-l.ready:
		select {
		case l.taken <- struct{}{}:
		default:
		}
		l.last.Store(&a.peer)
		return a.c, nil
	case err := <-l.failed:
		return nil, err
	case <-l.done:
		return nil, fmt.Errorf("%w: the listener is closed", mp.ErrConnClosed)
	}
}

// run starts accepting, with the settings as they are now.
func (l *Listener) run() {
	l.timeout = l.HandshakeTimeout
	if l.timeout <= 0 {
		l.timeout = DefaultHandshakeTimeout
	}
	l.max = l.MaxHandshakes
	if l.max <= 0 {
		l.max = DefaultMaxHandshakes
	}
	// The accept loop lets at most max-1 wait before it accepts, and at
	// most max handshakes run: sending to ready never blocks.
	l.ready = make(chan accepted, 2*l.max)
	l.wg.Add(1)
	go l.acceptLoop()
}

func (l *Listener) acceptLoop() {
	defer l.wg.Done()
	var pause time.Duration
	for {
		for len(l.ready) >= l.max {
			select {
			case <-l.taken:
			case <-l.done:
				return
			}
		}
		nc, err := l.ln.Accept()
		if err != nil {
			select {
			case <-l.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case l.failed <- fmt.Errorf("mp: accept: %w", err):
			default:
			}
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			select {
			case <-time.After(pause):
			case <-l.done:
				return
			}
			continue
		}
		pause = 0
		l.admit(nc)
	}
}

// admit starts the handshake of nc, once there is room for it (see
// MaxHandshakes).
func (l *Listener) admit(nc net.Conn) {
	for {
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			nc.Close()
			return
		}
		if len(l.pending) < l.max {
			h := &handshake{nc: nc, since: time.Now()}
			l.pending = append(l.pending, h)
			l.wg.Add(1)
			go l.authenticate(h)
			l.mu.Unlock()
			return
		}
		wait := l.dropOne(time.Now())
		l.mu.Unlock()
		if wait == 0 {
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-l.freed:
		case <-t.C:
		case <-l.done:
		}
		t.Stop()
	}
}

// dropOne drops the handshake whose place a new connection may take, and
// returns 0; or, if none may be dropped yet, returns how long until one
// may. l.mu is held.
func (l *Listener) dropOne(now time.Time) time.Duration {
	victim := -1
	for i, h := range l.pending { // oldest first
		if !h.heard.Load() && now.Sub(h.since) >= silentGrace {
			victim = i
			break
		}
	}
	if victim < 0 && now.Sub(l.pending[0].since) >= slowGrace {
		victim = 0
	}
	if victim < 0 {
		wait := l.pending[0].since.Add(slowGrace).Sub(now)
		for _, h := range l.pending {
			if !h.heard.Load() {
				wait = min(wait, h.since.Add(silentGrace).Sub(now))
				break
			}
		}
		return max(wait, time.Millisecond)
	}
	v := l.pending[victim]
	l.pending = append(l.pending[:victim], l.pending[victim+1:]...)
	v.dropped.Store(true)
	v.nc.Close()
	return 0
}

// authenticate runs h's handshake, and queues its connection for Accept or
// closes it.
func (l *Listener) authenticate(h *handshake) {
	defer l.wg.Done()
	_ = h.nc.SetDeadline(time.Now().Add(l.timeout))
	// The Conn that authenticates is the one Accept returns: it may have
	// read ahead the peer's first message.
	c := mp.NewConn(h)
	err := auth{l.key, l.LegacyMD5}.serve(c)
	l.mu.Lock()
	for i, p := range l.pending {
		if p == h {
			l.pending = append(l.pending[:i], l.pending[i+1:]...)
			break
		}
	}
	closed := l.closed
	l.mu.Unlock()
	select {
	case l.freed <- struct{}{}:
	default:
	}
	switch {
	case h.dropped.Load():
		// Reported even if the Listener has closed since: it was dropped
		// before, for a newer connection.
		err = fmt.Errorf("%w: dropped for a newer connection after %v: %d handshakes were under way (MaxHandshakes)", mp.ErrAuth, time.Since(h.since).Round(time.Millisecond), l.max)
	case closed:
		h.nc.Close()
		return
	case err == nil:
		err = h.nc.SetDeadline(time.Time{})
		if err == nil {
			l.ready <- accepted{c, h.nc.RemoteAddr()}
			return
		}
		err = fmt.Errorf("%w: %w", mp.ErrAuth, err)
	}
	h.nc.Close()
	if peer := h.nc.RemoteAddr(); peer != nil && peer.String() != "" {
		err = fmt.Errorf("%w (peer %s)", err, peer)
	}
	if l.Rejected != nil {
		l.Rejected(err)
	}
}

// Close stops listening, closes the connections being authenticated or
// waiting for Accept, waits for the goroutines the Listener started, and
// removes the socket of an automatic address. Connections Accept returned
// stay open. Closing twice is harmless.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() {
		l.start.Do(func() {}) // no accept loop from now on
		close(l.done)
		l.closeErr = l.ln.Close()
		l.mu.Lock()
		l.closed = true
		for _, h := range l.pending {
			h.nc.Close()
		}
		l.mu.Unlock()
		l.wg.Wait()
		for {
			select {
			case a := <-l.ready:
				a.c.Close()
				continue
			default:
			}
			break
		}
		if l.dir != "" {
			os.RemoveAll(l.dir)
		}
	})
	return l.closeErr
}

// Client connects to a Listener and authenticates, like Python's
// multiprocessing.connection.Client: it answers the listener's challenge
// with authKey (nil: mp.CurrentProcess().AuthKey), then challenges the
// listener. A listener with another key gives an error wrapping
// mp.ErrAuth. Connecting and authenticating take at most
// DefaultHandshakeTimeout. Client is a zero Dialer's Dial with authKey.
//
// The handshake is Python's (3.12 and later): a Python program's
// Listener(address, authkey=key) accepts this Client, and this package's
// Listener accepts Python's Client(address, authkey=key), when the keys
// are the same. SendBytes and RecvBytes then exchange bytes with Python's
// send_bytes and recv_bytes. Python 3.11 and older need Dialer.LegacyMD5
// and Listener.LegacyMD5.
func Client(family, address string, authKey []byte) (*mp.Conn, error) {
	return (&Dialer{AuthKey: authKey}).Dial(family, address)
}

// Dialer holds the settings of a connection to a Listener. The zero
// Dialer is Client's.
type Dialer struct {
	// AuthKey is the key the Dialer authenticates with. If nil, it is
	// mp.CurrentProcess().AuthKey, which the processes of a tree share.
	AuthKey []byte

	// Timeout bounds connecting and authenticating. Zero means
	// DefaultHandshakeTimeout (20 s).
	Timeout time.Duration

	// LegacyMD5 lets the Dialer authenticate with HMAC-MD5 and no digest
	// name, the only form Python 3.11 and older speak. If false, a
	// listener that asks for it is refused with an error that says so.
	LegacyMD5 bool
}

// Dial connects to a Listener at address in family ("" for
// DefaultFamily), and authenticates as Client describes.
func (d *Dialer) Dial(family, address string) (*mp.Conn, error) {
	if family == "" {
		family = DefaultFamily()
	}
	key := d.AuthKey
	if key == nil {
		key = mp.CurrentProcess().AuthKey
	}
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	deadline := time.Now().Add(timeout)
	nc, err := net.DialTimeout(family, address, timeout)
	if err != nil {
		return nil, fmt.Errorf("mp: connect: %w", err)
	}
	_ = nc.SetDeadline(deadline)
	c := mp.NewConn(nc)
	if err := (auth{key, d.LegacyMD5}).connect(c); err != nil {
		nc.Close()
		return nil, err
	}
	if err := nc.SetDeadline(time.Time{}); err != nil {
		nc.Close()
		return nil, fmt.Errorf("mp: connect: %w", err)
	}
	return c, nil
}
