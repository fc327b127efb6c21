package managers

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/connection"
	"github.com/go-mp/mp/internal/wire"
)

// maxIdle bounds the connections a process keeps open to one manager
// beyond those in use.
const maxIdle = 8

// client is a process's connections to one manager, and the session they
// form (see Server): which objects its proxies hold, and which objects
// it let go of since its last request. Calls take an idle connection,
// or make one, so that goroutines call concurrently.
type client struct {
	family, address string
	key             []byte // nil: the process tree's key

	// gen counts sessions: it changes when a session is lost, and a
	// proxy that held its object in an older session holds it no more.
	gen   atomic.Uint64
	calls atomic.Uint64 // numbers calls that may be cancelled

	mu         sync.Mutex
	session    [16]byte
	nonce      uint64   // the server's instance, as the session's hello said
	primary    *mp.Conn // nil: no session
	connecting chan struct{}
	idle       []*mp.Conn
	busy       map[*mp.Conn]struct{}
	held       map[uint64]*heldObj
	releases   []uint64
	lost       error // why the last session ended, for the error of a call that finds none
	closed     error // set by close: every call fails with it
}

// heldObj is an object the session holds: how many proxies of this
// process hold it, and whether one was encoded, to cross into another
// process (the session then holds it until it ends).
type heldObj struct {
	local    int
	exported int
}

func newClient(family, address string, key []byte) *client {
	return &client{family: family, address: address, key: key, busy: map[*mp.Conn]struct{}{}, held: map[uint64]*heldObj{}}
}

// where names the manager in errors.
func (c *client) where() string { return c.family + ":" + c.address }

// clients are the clients of decoded proxies and Managers, one per
// manager address and key: proxies decoded in a process share its
// connections to their manager.
var clients = struct {
	sync.Mutex
	m map[clientKey]*client
}{m: map[clientKey]*client{}}

type clientKey struct{ family, address, key string }

// sharedClient returns the process's client for a manager, making one if
// there is none or it is closed.
func sharedClient(family, address string, key []byte) *client {
	k := clientKey{family, address, string(key)}
	clients.Lock()
	defer clients.Unlock()
	c := clients.m[k]
	if c == nil || c.isClosed() {
		c = newClient(family, address, key)
		clients.m[k] = c
	}
	return c
}

// register makes c the client that proxies of its manager decoded in this
// process use, unless one is there and open.
func (c *client) register() {
	k := clientKey{c.family, c.address, string(c.key)}
	clients.Lock()
	defer clients.Unlock()
	if o := clients.m[k]; o == nil || o.isClosed() {
		clients.m[k] = c
	}
}

func (c *client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed != nil
}

// conn returns a connection of the current session, beginning a session
// if there is none, and the releases to piggyback on its request.
func (c *client) conn() (*mp.Conn, []uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		switch {
		case c.closed != nil:
			return nil, nil, c.closed
		case c.connecting != nil:
			ch := c.connecting
			c.mu.Unlock()
			<-ch
			c.mu.Lock()
			continue
		case c.primary == nil:
			var id [16]byte
			_, _ = rand.Read(id[:])
			ch := make(chan struct{})
			c.connecting = ch
			c.mu.Unlock()
			conn, nonce, err := c.dial(id, true)
			c.mu.Lock()
			c.connecting = nil
			close(ch)
			if err != nil {
				return nil, nil, err
			}
			if c.closed != nil {
				conn.Close()
				return nil, nil, c.closed
			}
			c.session, c.nonce, c.primary = id, nonce, conn
			c.held = map[uint64]*heldObj{}
			c.releases = nil
			c.gen.Add(1)
			c.busy[conn] = struct{}{}
			return conn, nil, nil
		case len(c.idle) > 0:
			conn := c.idle[len(c.idle)-1]
			c.idle = c.idle[:len(c.idle)-1]
			c.busy[conn] = struct{}{}
			return conn, c.takeReleases(), nil
		}
		id, gen := c.session, c.gen.Load()
		c.mu.Unlock()
		conn, nonce, err := c.dial(id, false)
		c.mu.Lock()
		if err != nil {
			if c.gen.Load() != gen || c.primary == nil {
				continue // the session ended meanwhile: begin another
			}
			return nil, nil, err
		}
		if c.closed != nil || c.gen.Load() != gen || nonce != c.nonce || c.primary == nil {
			conn.Close()
			continue
		}
		c.busy[conn] = struct{}{}
		return conn, c.takeReleases(), nil
	}
}

func (c *client) takeReleases() []uint64 {
	r := c.releases
	c.releases = nil
	return r
}

// dial connects, authenticates, and says hello: the connection joins the
// session id, or begins it if primary.
func (c *client) dial(id [16]byte, primary bool) (*mp.Conn, uint64, error) {
	conn, err := connection.Client(c.family, c.address, c.key)
	if err != nil {
		var op *net.OpError
		if errors.Is(err, mp.ErrAuth) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.As(err, &op) {
			// Refused: another key. (A handshake cut short by the
			// connection's end is a server going away.)
			return nil, 0, fmt.Errorf("mp: connecting to the manager at %s: %w", c.where(), err)
		}
		return nil, 0, fmt.Errorf("%w: connecting to it at %s: %w", ErrManagerGone, c.where(), err)
	}
	p := int64(0)
	if primary {
		p = 1
	}
	var w wire.Writer
	(&request{op: opHello, ints: []int64{protocolVersion, p}, vals: [][]byte{id[:]}}).encode(&w)
	resp, err := roundTrip(conn, w.B)
	if err == nil && len(resp.ints) != 1 {
		err = fmt.Errorf("%w: a bad hello from the manager", mp.ErrBadMessage)
	}
	if err != nil {
		conn.Close()
		return nil, 0, fmt.Errorf("mp: connecting to the manager at %s: %w", c.where(), err)
	}
	return conn, uint64(resp.ints[0]), nil
}

// roundTrip sends a request and decodes its reply. An error of the
// connection wraps ErrManagerGone.
func roundTrip(conn *mp.Conn, req []byte) (*response, error) {
	if err := conn.SendBytes(req); err != nil {
		if errors.Is(err, mp.ErrMessageTooLarge) {
			return nil, err // refused before a byte was sent
		}
		return nil, &connError{err}
	}
	b, err := conn.RecvBytes()
	if err != nil {
		return nil, &connError{err}
	}
	return decodeReply(b)
}

// connError is an error of a connection to the manager: the session it
// belongs to may be lost.
type connError struct{ err error }

func (e *connError) Error() string { return e.err.Error() }
func (e *connError) Unwrap() error { return e.err }

// put gives back a connection that a call used; err is the call's error.
func (c *client) put(conn *mp.Conn, err error) {
	var ce *connError
	broken := errors.As(err, &ce)
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.busy, conn)
	switch {
	case broken && conn == c.primary:
		c.loseSession(fmt.Errorf("%w: the connection to it at %s ended: %w", ErrManagerGone, c.where(), ce.err))
	case broken || c.closed != nil || conn != c.primary && c.primary == nil:
		conn.Close()
	case conn != c.primary && len(c.idle) >= maxIdle:
		conn.Close()
	default:
		c.idle = append(c.idle, conn)
	}
}

// loseSession closes the session's connections, those in use included:
// their calls end with an error. The next call begins another session.
// c.mu is held.
func (c *client) loseSession(why error) {
	if c.primary == nil {
		return
	}
	c.lost = why
	c.primary.Close()
	c.primary = nil
	for _, conn := range c.idle {
		conn.Close()
	}
	c.idle = nil
	for conn := range c.busy {
		conn.Close()
	}
	c.held = map[uint64]*heldObj{}
	c.releases = nil
	c.gen.Add(1)
}

// fail loses the session for good: every call from now on fails with why
// (the manager's process has exited, say).
func (c *client) fail(why error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed == nil {
		c.closed = why
	}
	c.loseSession(why)
}

// do sends a request on a connection of the session and returns its
// reply. what names the call in errors.
func (c *client) do(q *request, what string) (*response, error) {
	conn, rel, err := c.conn()
	if err != nil {
		return nil, err
	}
	q.releases = rel
	var w wire.Writer
	q.encode(&w)
	resp, err := roundTrip(conn, w.B)
	c.put(conn, err)
	return resp, c.callError(err, what)
}

// doContext is do for a call that may wait: if ctx ends first, it asks the
// server, on another connection, to cancel the call, then waits for the
// call's reply, which says whether it was done after all.
func (c *client) doContext(ctx context.Context, q *request, what string) (*response, error) {
	if ctx.Done() == nil {
		return c.do(q, what)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	conn, rel, err := c.conn()
	if err != nil {
		return nil, err
	}
	q.releases = rel
	q.call = c.calls.Add(1)
	c.mu.Lock()
	session := c.session
	c.mu.Unlock()
	var w wire.Writer
	q.encode(&w)
	cancelled := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(cancelled)
		_, _ = c.do(&request{op: opCancel, call: q.call, vals: [][]byte{session[:]}}, "cancel")
	})
	resp, err := roundTrip(conn, w.B)
	if !stop() {
		<-cancelled
	}
	c.put(conn, err)
	if err != nil && ctx.Err() != nil {
		// The wait was cancelled, or ended otherwise as ctx did.
		return nil, fmt.Errorf("%w (%w)", ctx.Err(), c.callError(err, what))
	}
	return resp, c.callError(err, what)
}

// callError adds to an error of the connection what the call was.
func (c *client) callError(err error, what string) error {
	var ce *connError
	if errors.As(err, &ce) {
		c.mu.Lock()
		closed := c.closed
		c.mu.Unlock()
		if closed != nil {
			return fmt.Errorf("%s: %w", what, closed)
		}
		return fmt.Errorf("%w: %s: the connection to it at %s ended: %w", ErrManagerGone, what, c.where(), ce.err)
	}
	return err
}

// created records that a proxy of this process holds an object the
// session just created or held; it returns the session's generation.
func (c *client) created(id uint64) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.held[id]
	if h == nil {
		h = &heldObj{}
		c.held[id] = h
	}
	h.local++
	return c.gen.Load()
}

// holdLocal makes one more proxy hold id if the session holds it (or
// let it go so recently that the server has not heard), without asking
// the server; it reports whether it could.
func (c *client) holdLocal(id uint64) (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h := c.held[id]; h != nil {
		h.local++
		return c.gen.Load(), true
	}
	for i, r := range c.releases {
		if r == id {
			c.releases = append(c.releases[:i], c.releases[i+1:]...)
			c.held[id] = &heldObj{local: 1}
			return c.gen.Load(), true
		}
	}
	return 0, false
}

// release records that a proxy let go of id, held in session gen: once
// none holds it, and none was encoded, the next request tells the server.
func (c *client) release(id, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.held[id]
	if h == nil || gen != c.gen.Load() {
		return
	}
	if h.local--; h.local <= 0 && h.exported <= 0 {
		delete(c.held, id)
		c.releases = append(c.releases, id)
	}
}

// export records that a proxy of id was encoded: the session holds id
// until it ends, for the process that decodes it.
func (c *client) export(id, gen uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.held[id]
	if h == nil || gen != c.gen.Load() {
		return false
	}
	h.exported++
	return true
}

// stored undoes the exports of the proxies that values sent to a
// built-in object of the server hold: the server keeps what it stores
// alive itself (see Server.store), and the values never cross into
// another process. (A registered type's method gets its arguments
// decoded: a proxy among them is one more proxy, in the server's
// process, which holds its object itself.)
func (c *client) stored(typeid string, vals [][]byte) {
	if builtins[typeid] == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, v := range vals {
		for _, id := range proxiesIn(v, c.nonce) {
			h := c.held[id]
			if h == nil || h.exported <= 0 {
				continue
			}
			if h.exported--; h.local <= 0 && h.exported <= 0 {
				delete(c.held, id)
				c.releases = append(c.releases, id)
			}
		}
	}
}

// close ends the session and closes every connection: calls in progress
// return why, and so does every later call.
func (c *client) close(why error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed != nil {
		return nil
	}
	c.closed = why
	c.loseSession(why)
	return nil
}
