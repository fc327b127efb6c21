package managers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/internal/wire"
)

func init() { mp.Register(serveManager) }

// Manager is a connection to a manager's server, through which a process
// creates objects that the server holds and gets proxies to them:
// Python's SyncManager. NewManager starts a server in a child process and
// returns its Manager; ConnectManager connects to a server that runs
// elsewhere.
//
// A Manager is safe for concurrent use. It crosses into a child process
// as an argument of a Process (or in a message), and the child's Manager
// connects to the same server; only the Manager that NewManager returned
// can shut the server down.
type Manager struct {
	family, address string
	key             []byte // nil: the process tree's key

	c               *client // nil for a decoded Manager: the shared client
	proc            *mp.Process
	shutdownTimeout time.Duration
	watched         chan struct{} // closed when the watch of proc ends

	mu     sync.Mutex
	closed bool
}

// Option configures NewManager.
type Option interface{ apply(*config) }

type config struct {
	family, address string
	key             []byte
	method          mp.StartMethod
	timeout         time.Duration
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Address makes the server listen on address in family, as
// connection.Listen does (connection.FamilyUnix or FamilyTCP): Python's
// address argument. Without it, the server listens on a fresh socket of
// connection.DefaultFamily(). A server on a TCP address other than
// loopback serves other hosts too.
func Address(family, address string) Option {
	return optionFunc(func(c *config) { c.family, c.address = family, address })
}

// AuthKey sets the key that connections to the server must prove they
// know (Python's authkey). Without it, the key is the process tree's,
// mp.CurrentProcess().AuthKey, which every child inherits.
func AuthKey(key []byte) Option {
	return optionFunc(func(c *config) { c.key = bytes.Clone(key) })
}

// StartMethod sets how the server's process is started; without it, the
// method that mp.SetStartMethod set.
func StartMethod(m mp.StartMethod) Option {
	return optionFunc(func(c *config) { c.method = m })
}

// ShutdownTimeout sets how long Shutdown waits for the server's process to
// exit before it terminates it: Python's shutdown_timeout. Without it, 1
// second.
func ShutdownTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.timeout = d })
}

// encodingVersion starts a Manager's encoding.
const encodingVersion = 1

// managerHello is what the server's process tells NewManager once it
// listens, or why it cannot.
type managerHello struct {
	Family, Address, Err string
}

// serveManager is the target of a manager's process: it listens, says
// where, and serves until Shutdown.
func serveManager(out *mp.Conn, family, address string, key []byte) error {
	srv, err := NewServer(family, address, key)
	if err != nil {
		_ = out.Send(managerHello{Err: err.Error()})
		return err
	}
	f, a := srv.Addr()
	if err := out.Send(managerHello{Family: f, Address: a}); err != nil {
		srv.Close()
		return err
	}
	out.Close()
	return srv.Serve()
}

// NewManager starts a manager's server in a child process and returns a
// Manager connected to it: Python's Manager(), or SyncManager's start.
// The process is a daemon (mp.Shutdown terminates it, and it may not start
// processes of its own) and, like every child, it never outlives its
// parent. Call Shutdown when done; a process that ends without it takes
// the server with it.
//
// The server's process is the program started afresh, so it knows the
// types and functions registered (Register, RegisterFunc) in init
// functions, or before mp.Main: register them there.
func NewManager(opts ...Option) (*Manager, error) {
	cfg := config{timeout: time.Second}
	for _, o := range opts {
		o.apply(&cfg)
	}
	in, out, err := mp.Pipe(false)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	p := mp.NewProcess(serveManager, out, cfg.family, cfg.address, cfg.key)
	p.Daemon = true
	p.StartMethod = cfg.method
	err = p.Start()
	out.Close()
	if err != nil {
		return nil, fmt.Errorf("mp: starting the manager's process: %w", err)
	}
	var hello managerHello
	if err := in.Recv(&hello); err != nil || hello.Err != "" {
		_ = p.Kill()
		jerr := p.Join()
		_ = p.Close()
		switch {
		case hello.Err != "":
			return nil, fmt.Errorf("mp: the manager's process: %s", hello.Err)
		case errors.Is(err, io.EOF) && jerr != nil:
			return nil, fmt.Errorf("%w: its process ended before it listened: %w", ErrManagerGone, jerr)
		}
		return nil, fmt.Errorf("mp: hearing from the manager's process: %w", err)
	}
	m := &Manager{family: hello.Family, address: hello.Address, key: cfg.key,
		proc: p, shutdownTimeout: cfg.timeout, watched: make(chan struct{})}
	m.c = newClient(m.family, m.address, m.key)
	m.c.register()
	go m.watch()
	return m, nil
}

// watch fails the calls of m's client once the server's process ends, so
// that a call in progress never waits for a connection that an OS (or
// Wine) keeps open.
func (m *Manager) watch() {
	defer close(m.watched)
	<-m.proc.Done()
	code, _ := m.proc.ExitCode()
	m.c.fail(fmt.Errorf("%w: its process (pid %d) exited with code %d", ErrManagerGone, m.proc.PID(), code))
}

// ConnectManager connects to a manager's server at address in family with
// authKey (nil: the process tree's key): Python's BaseManager.connect. It
// connects at once, so that a wrong address or key is reported here: a
// server with another key refuses the connection, with an error wrapping
// mp.ErrAuth, before it decodes anything.
func ConnectManager(family, address string, authKey []byte) (*Manager, error) {
	m := &Manager{family: family, address: address, key: bytes.Clone(authKey)}
	m.c = newClient(family, address, m.key)
	conn, _, err := m.c.conn()
	if err != nil {
		return nil, err
	}
	m.c.put(conn, nil)
	m.c.register()
	return m, nil
}

// Address returns the family and address of the manager's server, for
// ConnectManager.
func (m *Manager) Address() (family, address string) { return m.family, m.address }

// Process returns the manager's process, for the Manager that NewManager
// returned; otherwise nil.
func (m *Manager) Process() *mp.Process { return m.proc }

// client returns the client of m's calls.
func (m *Manager) client() (*client, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: a nil Manager", ErrClosed)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, fmt.Errorf("%w: the Manager is closed", ErrClosed)
	}
	if m.c != nil {
		return m.c, nil
	}
	return sharedClient(m.family, m.address, m.key), nil
}

// Shutdown stops the manager's server and waits for its process to exit,
// terminating it if it takes longer than ShutdownTimeout: Python's
// shutdown. Every proxy of the manager, in every process, fails from then
// on (ErrManagerGone, or ErrClosed in this process). It returns the error
// of the process's Join: nil if it exited cleanly. Only the Manager that
// NewManager returned can shut a server down (ErrNotOwnerManager); a
// server a program runs itself stops with its Close. Calling it twice is
// harmless.
func (m *Manager) Shutdown() error {
	if m.proc == nil {
		return ErrNotOwnerManager
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()
	_, _ = m.c.do(&request{op: opShutdown}, "shutdown")
	_ = m.c.close(fmt.Errorf("%w: the manager was shut down", ErrClosed))
	err := m.proc.JoinTimeout(m.shutdownTimeout)
	if errors.Is(err, mp.ErrStillRunning) {
		_ = m.proc.Terminate()
		err = m.proc.Join()
	}
	<-m.watched
	_ = m.proc.Close()
	return err
}

// Close disconnects m from the server: the proxies made through m fail
// from then on with ErrClosed, and the server lets go of the objects only
// they held. For the Manager that NewManager returned, Close is Shutdown.
// Closing twice is harmless.
func (m *Manager) Close() error {
	if m.proc != nil {
		return m.Shutdown()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	if m.c != nil {
		return m.c.close(fmt.Errorf("%w: the Manager is closed", ErrClosed))
	}
	return nil
}

// MarshalBinary encodes the manager's address (and its key, if it is not
// the process tree's), so that a Manager crosses into a child process as
// an argument. The Manager decoded connects to the same server, and cannot
// shut it down.
func (m *Manager) MarshalBinary() ([]byte, error) {
	w := &wire.Writer{}
	w.Byte(encodingVersion)
	w.String(m.family)
	w.String(m.address)
	if m.key == nil || bytes.Equal(m.key, mp.CurrentProcess().AuthKey) {
		w.Bool(false)
	} else {
		w.Bool(true)
		w.Bytes(m.key)
	}
	return w.B, nil
}

// UnmarshalBinary is MarshalBinary's inverse.
func (m *Manager) UnmarshalBinary(b []byte) error {
	d := wire.NewReader(b)
	if d.Byte() != encodingVersion {
		return fmt.Errorf("%w: not an encoded Manager", mp.ErrBadMessage)
	}
	family, address := d.String(), d.String()
	var key []byte
	if d.Bool() {
		key = bytes.Clone(d.Bytes())
	}
	if err := d.End(); err != nil {
		return err
	}
	*m = Manager{family: family, address: address, key: key}
	return nil
}
