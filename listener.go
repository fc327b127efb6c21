package mp

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/go-mp/mp/internal/wire"
)

// Listener accepts authenticated connections, like Python's
// multiprocessing.connection.Listener. Each side proves that it knows the
// key before any message is decoded (see Client).
type Listener struct {
	ln  net.Listener
	key []byte
	dir string // the temporary directory of an automatic Unix socket
}

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

// HandshakeTimeout bounds the authentication of a connection, so that a
// peer that connects and says nothing cannot hold Accept for ever.
const HandshakeTimeout = 20 * time.Second

// handshake messages: Python's, with HMAC-SHA256 digests.
var (
	challengePrefix = []byte("#CHALLENGE#")
	welcome         = []byte("#WELCOME#")
	failure         = []byte("#FAILURE#")
)

// maxHandshake bounds a handshake frame: nothing larger is read from an
// unauthenticated peer.
const maxHandshake = 256

// Listen returns a Listener on address in family (FamilyUnix or
// FamilyTCP; "" for DefaultFamily). An empty address picks one: a fresh
// socket in a temporary directory, or a free port on 127.0.0.1. If
// authKey is nil, the key is CurrentProcess().AuthKey, which children
// inherit, so that the processes of one tree can connect with no more
// said.
func Listen(family, address string, authKey []byte) (*Listener, error) {
	if family == "" {
		family = DefaultFamily()
	}
	l := &Listener{key: authKey}
	if l.key == nil {
		l.key = CurrentProcess().AuthKey
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
	return l, nil
}

// Addr returns the listener's family and address, for Client.
func (l *Listener) Addr() (family, address string) {
	a := l.ln.Addr()
	return a.Network(), a.String()
}

// Accept waits for a connection and authenticates it: the peer must answer
// a challenge with the key, then Accept answers the peer's. A peer with
// another key gets an error wrapping ErrAuth, and its connection is
// closed; Accept returns that error and the Listener goes on.
func (l *Listener) Accept() (*Conn, error) {
	nc, err := l.ln.Accept()
	if err != nil {
		if errors.Is(err, net.ErrClosed) {
			return nil, ErrConnClosed
		}
		return nil, fmt.Errorf("mp: accept: %w", err)
	}
	c := newNetConn(nc)
	_ = nc.SetDeadline(time.Now().Add(HandshakeTimeout))
	err = deliverChallenge(c, l.key)
	if err == nil {
		err = answerChallenge(c, l.key)
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	return c, nil
}

// Close stops listening, and removes the socket of an automatic address.
// Connections already accepted stay open.
func (l *Listener) Close() error {
	err := l.ln.Close()
	if l.dir != "" {
		os.RemoveAll(l.dir)
	}
	return err
}

// Client connects to a Listener and authenticates, like Python's
// multiprocessing.connection.Client: it answers the listener's challenge
// with authKey (nil: CurrentProcess().AuthKey), then challenges the
// listener. A listener with another key gives an error wrapping ErrAuth.
func Client(family, address string, authKey []byte) (*Conn, error) {
	if family == "" {
		family = DefaultFamily()
	}
	if authKey == nil {
		authKey = CurrentProcess().AuthKey
	}
	nc, err := net.DialTimeout(family, address, HandshakeTimeout)
	if err != nil {
		return nil, fmt.Errorf("mp: connect: %w", err)
	}
	c := newNetConn(nc)
	_ = nc.SetDeadline(time.Now().Add(HandshakeTimeout))
	err = answerChallenge(c, authKey)
	if err == nil {
		err = deliverChallenge(c, authKey)
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	return c, nil
}

func digest(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// handshakeRecv reads one frame of at most maxHandshake bytes, and decodes
// nothing.
func handshakeRecv(c *Conn) ([]byte, error) {
	var hdr [wire.HeaderSize]byte
	b, err := wire.ReadFrame(c.br, &hdr, maxHandshake)
	if err != nil {
		return nil, fmt.Errorf("%w: during the handshake: %w", ErrAuth, err)
	}
	return b, nil
}

// deliverChallenge sends a random challenge and checks the answer.
func deliverChallenge(c *Conn, key []byte) error {
	msg := append(bytes.Clone(challengePrefix), make([]byte, 32)...)
	_, _ = rand.Read(msg[len(challengePrefix):])
	if err := c.SendBytes(msg); err != nil {
		return fmt.Errorf("%w: %w", ErrAuth, err)
	}
	resp, err := handshakeRecv(c)
	if err != nil {
		return err
	}
	if !hmac.Equal(resp, digest(key, msg)) {
		_ = c.SendBytes(failure)
		return fmt.Errorf("%w: the peer's digest does not match: it has another key", ErrAuth)
	}
	return c.SendBytes(welcome)
}

// answerChallenge answers the peer's challenge.
func answerChallenge(c *Conn, key []byte) error {
	msg, err := handshakeRecv(c)
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(msg, challengePrefix) {
		return fmt.Errorf("%w: the peer sent no challenge", ErrAuth)
	}
	if err := c.SendBytes(digest(key, msg)); err != nil {
		return fmt.Errorf("%w: %w", ErrAuth, err)
	}
	resp, err := handshakeRecv(c)
	if err != nil {
		return err
	}
	if !bytes.Equal(resp, welcome) {
		return fmt.Errorf("%w: the peer refused our digest: it has another key", ErrAuth)
	}
	return nil
}
