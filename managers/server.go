package managers

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/connection"
	"github.com/go-mp/mp/internal/wire"
)

// Server serves a manager's objects to the processes that connect to it:
// Python's managers.Server. NewManager runs one in a child process; a
// program that serves others, on this host or another, runs one itself:
//
//	srv, err := managers.NewServer("tcp", "0.0.0.0:50000", key)
//	...
//	err = srv.Serve() // Python's serve_forever
//
// and its clients call ConnectManager("tcp", "host:50000", key).
//
// Every connection is authenticated (package connection) before a byte of
// it is decoded, and serves one call at a time, in a goroutine of its
// own; calls of different connections run concurrently, and each object
// serialises the calls made on it. A process's proxies share a few
// connections, which form its session: when the first of them ends (the
// process exits, or is killed, or closes its Manager), the objects it held
// are let go, the locks it held are abandoned (see ErrOwnerDead) and the
// barriers it waited on are broken.
type Server struct {
	l     *connection.Listener
	nonce uint64 // this server's instance: a proxy names its objects with it

	mu       sync.Mutex
	objects  map[uint64]*served
	identity map[any]*served    // registered objects by pointer, see create
	named    map[string]*served // objects created with Name
	nextID   uint64
	sessions map[[16]byte]*session
	conns    map[*mp.Conn]struct{}
	stopping bool

	stopOnce sync.Once
	stopped  chan struct{} // closed once the server stops
	closeErr error
	wg       sync.WaitGroup // connection goroutines
}

// served is an object of the server, with its bookkeeping.
type served struct {
	id       uint64
	typeid   string
	obj      object
	methods  []string // what a registered type exposes, sorted
	holders  map[*session]struct{}
	stored   int    // how many values stored in objects of the server name this one
	name     string // set for an object created with Name: it lives as long as the server
	identity any    // the key in Server.identity, or nil
}

// object is what the server calls: a built-in type, or a registered
// type's adapter.
type object interface {
	call(c *call, method string, ints []int64, vals [][]byte) (*response, error)
}

// container is an object that stores values (a dict, a list, ...), which
// may name other objects of the server: it lists them when it is forgotten,
// so that what only it kept alive is forgotten too.
type container interface {
	contents() [][]byte
}

// sessionEnder is an object that keeps state per session (who holds a
// lock, who waits at a barrier), told when a session it has seen ends.
type sessionEnder interface {
	endSession(s *session)
}

// session is a process's connections to the server, and what it holds.
type session struct {
	id      [16]byte
	ctx     context.Context // cancelled when the session ends
	cancel  context.CancelFunc
	holds   map[uint64]*served
	touched map[sessionEnder]struct{}
	calls   map[uint64]context.CancelFunc // blocking calls in progress, for opCancel
	ended   bool
}

// NewServer listens on address in family (connection.FamilyUnix or
// FamilyTCP; "" for connection.DefaultFamily()) with authKey (nil: the
// process tree's key, mp.CurrentProcess().AuthKey), as connection.Listen
// does: an empty address picks a fresh socket or a free port on
// 127.0.0.1, which Addr reports. The server serves nothing until Serve.
func NewServer(family, address string, authKey []byte) (*Server, error) {
	l, err := connection.Listen(family, address, authKey)
	if err != nil {
		return nil, err
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &Server{
		l:        l,
		nonce:    binary.LittleEndian.Uint64(b[:]) | 1,
		objects:  map[uint64]*served{},
		identity: map[any]*served{},
		named:    map[string]*served{},
		sessions: map[[16]byte]*session{},
		conns:    map[*mp.Conn]struct{}{},
		stopped:  make(chan struct{}),
	}, nil
}

// Addr returns the family and address clients connect to.
func (s *Server) Addr() (family, address string) { return s.l.Addr() }

// Serve accepts connections and serves them until Close, or until a
// client's Manager.Shutdown; then it closes every connection and returns
// nil once their goroutines have ended. Python's serve_forever.
func (s *Server) Serve() error {
	for {
		c, err := s.l.Accept()
		if err != nil {
			select {
			case <-s.stopped:
				s.wg.Wait()
				return nil
			default:
			}
			if errors.Is(err, mp.ErrConnClosed) {
				s.stop()
				s.wg.Wait()
				return nil
			}
			continue // the Listener backs off and tries again
		}
		s.mu.Lock()
		if s.stopping {
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

// Close stops the server: it stops listening, closes every connection
// (calls in progress end, their callers get ErrManagerGone), ends every
// session and waits for the goroutines of the connections. Closing twice
// is harmless.
func (s *Server) Close() error {
	s.stop()
	s.wg.Wait()
	return s.closeErr
}

// stop begins stopping, and returns without waiting.
func (s *Server) stop() {
	s.stopOnce.Do(func() {
		close(s.stopped)
		s.closeErr = s.l.Close()
		s.mu.Lock()
		s.stopping = true
		conns := s.conns
		s.conns = map[*mp.Conn]struct{}{}
		var sessions []*session
		for _, ss := range s.sessions {
			sessions = append(sessions, ss)
		}
		s.mu.Unlock()
		for c := range conns {
			c.Close()
		}
		for _, ss := range sessions {
			s.endSession(ss)
		}
	})
}

// serveConn serves one connection: its hello, then its requests.
func (s *Server) serveConn(c *mp.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	var w wire.Writer
	b, err := c.RecvBytes()
	if err != nil {
		return
	}
	q, err := decodeRequest(b)
	if err == nil && (q.op != opHello || len(q.ints) != 2 || len(q.vals) != 1 || len(q.vals[0]) != 16) {
		err = fmt.Errorf("%w: the connection did not begin with a hello", mp.ErrBadMessage)
	}
	if err == nil && q.ints[0] != protocolVersion {
		err = fmt.Errorf("mp: the client speaks version %d of the manager protocol, this server %d", q.ints[0], protocolVersion)
	}
	var sess *session
	if err == nil {
		sess, err = s.attach([16]byte(q.vals[0]), q.ints[1] == 1)
	}
	if err != nil {
		encodeError(&w, err)
		_ = c.SendBytes(w.B)
		return
	}
	if q.ints[1] == 1 {
		defer s.endSession(sess)
	}
	(&response{ints: []int64{int64(s.nonce)}}).encode(&w)
	if c.SendBytes(w.B) != nil {
		return
	}
	for {
		b, err := c.RecvBytes()
		if err != nil {
			return
		}
		w.B = w.B[:0]
		after := s.handle(c, sess, b, &w)
		err = c.SendBytes(w.B)
		if errors.Is(err, mp.ErrMessageTooLarge) {
			// Nothing was sent: say why instead (Items of a huge dict).
			n := len(w.B)
			w.B = w.B[:0]
			encodeError(&w, fmt.Errorf("%w: the reply of %d bytes exceeds the connection's maximum", mp.ErrMessageTooLarge, n))
			err = c.SendBytes(w.B)
		}
		if err != nil {
			return
		}
		if after != nil {
			after()
		}
		if cap(w.B) > 1<<20 {
			w.B = nil // do not keep a large reply's buffer
		}
	}
}

// attach returns the session id names: a new one for a primary
// connection, an existing one for the others.
func (s *Server) attach(id [16]byte, primary bool) (*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.sessions[id]
	switch {
	case s.stopping:
		return nil, errorf(ErrManagerGone, "the manager is shutting down")
	case primary && ss != nil:
		return nil, errorf(mp.ErrBadMessage, "a session begun twice")
	case primary:
		ctx, cancel := context.WithCancel(context.Background())
		ss = &session{id: id, ctx: ctx, cancel: cancel, holds: map[uint64]*served{},
			touched: map[sessionEnder]struct{}{}, calls: map[uint64]context.CancelFunc{}}
		s.sessions[id] = ss
	case ss == nil:
		return nil, errorf(ErrManagerGone, "the session this connection joins has ended")
	}
	return ss, nil
}

// endSession lets go of what ss held, and tells the objects that keep
// state per session.
func (s *Server) endSession(ss *session) {
	s.mu.Lock()
	if ss.ended {
		s.mu.Unlock()
		return
	}
	ss.ended = true
	ss.cancel()
	delete(s.sessions, ss.id)
	var gone []*served
	for _, o := range ss.holds {
		gone = s.unhold(ss, o, gone)
	}
	touched := ss.touched
	ss.touched = nil
	s.mu.Unlock()
	s.cascade(gone)
	for o := range touched {
		o.endSession(ss)
	}
}

// unhold lets ss's hold of o go, and forgets o if nothing keeps it; it
// appends o to gone if o is forgotten. s.mu is held.
func (s *Server) unhold(ss *session, o *served, gone []*served) []*served {
	delete(o.holders, ss)
	delete(ss.holds, o.id)
	return s.maybeForget(o, gone)
}

// maybeForget forgets o if no session holds it, no stored value names it
// and it has no name; it appends o to gone if so. s.mu is held.
func (s *Server) maybeForget(o *served, gone []*served) []*served {
	if len(o.holders) > 0 || o.stored > 0 || o.name != "" || s.objects[o.id] != o {
		return gone
	}
	delete(s.objects, o.id)
	if o.identity != nil {
		delete(s.identity, o.identity)
	}
	return append(gone, o)
}

// cascade lets go of what the values stored in forgotten objects named,
// and so on. s.mu is not held: a container's contents take its own mutex.
func (s *Server) cascade(gone []*served) {
	for len(gone) > 0 {
		o := gone[len(gone)-1]
		gone = gone[:len(gone)-1]
		if c, ok := o.obj.(container); ok {
			for _, v := range c.contents() {
				gone = s.unstore(v, gone)
			}
		}
	}
}

// proxyMagic begins the encoding of a proxy (see ref.marshal), so that the
// server finds the proxies of its objects inside the values it stores,
// whatever their type: a stored value keeps the objects it names alive.
var proxyMagic = []byte("\xffmp\x00proxy\x01")

// namedIn returns the IDs of this server's objects whose proxies v holds.
func (s *Server) namedIn(v []byte) []uint64 { return proxiesIn(v, s.nonce) }

// proxiesIn returns the IDs of the objects of the server nonce whose
// proxies v holds.
func proxiesIn(v []byte, nonce uint64) []uint64 {
	var ids []uint64
	for {
		i := bytes.Index(v, proxyMagic)
		if i < 0 {
			return ids
		}
		v = v[i+len(proxyMagic):]
		r := wire.NewReader(v)
		r.Bytes() // family
		r.Bytes() // address
		if r.Bool() {
			r.Bytes() // key
		}
		n, id := r.Uint(), r.Uint()
		if r.Err == nil && n == nonce {
			ids = append(ids, id)
		}
	}
}

// store records that a container stored v: the objects v names live while
// it is stored.
func (s *Server) store(v []byte) {
	ids := s.namedIn(v)
	if len(ids) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if o := s.objects[id]; o != nil {
			o.stored++
		}
	}
}

// unstore records that a container no longer stores v, appending the
// objects forgotten to gone.
func (s *Server) unstore(v []byte, gone []*served) []*served {
	ids := s.namedIn(v)
	if len(ids) == 0 {
		return gone
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if o := s.objects[id]; o != nil && o.stored > 0 {
			o.stored--
			gone = s.maybeForget(o, gone)
		}
	}
	return gone
}

// handle serves one request, writing the reply to w. It returns what to do
// once the reply is sent, if anything.
func (s *Server) handle(c *mp.Conn, ss *session, b []byte, w *wire.Writer) (after func()) {
	q, err := decodeRequest(b)
	if err != nil {
		encodeError(w, err)
		return nil
	}
	if len(q.releases) > 0 {
		var gone []*served
		s.mu.Lock()
		for _, id := range q.releases {
			if o := ss.holds[id]; o != nil {
				gone = s.unhold(ss, o, gone)
			}
		}
		s.mu.Unlock()
		s.cascade(gone)
	}
	var resp *response
	switch q.op {
	case opCall:
		resp, err = s.callObject(c, ss, q)
	case opCreate:
		resp, err = s.create(ss, q)
	case opHold:
		if len(q.ints) != 1 || uint64(q.ints[0]) != s.nonce {
			err = errorf(ErrObjectGone, "the proxy's object belongs to another run of the manager at this address")
			break
		}
		resp, err = s.hold(ss, q.id, q.name)
	case opRelease:
		resp = &response{}
	case opCancel:
		resp, err = s.cancelCall(q)
	case opShutdown:
		resp, after = &response{}, s.stop
	default:
		err = fmt.Errorf("%w: unknown op %d", mp.ErrBadMessage, q.op)
	}
	if err != nil {
		encodeError(w, err)
		return nil
	}
	resp.encode(w)
	return after
}

// lookup returns the object id names.
func (s *Server) lookup(id uint64) (*served, error) {
	s.mu.Lock()
	o := s.objects[id]
	s.mu.Unlock()
	if o == nil {
		return nil, errorf(ErrObjectGone, "object %d", id)
	}
	return o, nil
}

// hold makes ss a holder of the object id, which a proxy of typeid names.
func (s *Server) hold(ss *session, id uint64, typeid string) (*response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objects[id]
	if o == nil {
		return nil, errorf(ErrObjectGone, "object %d (a %s)", id, typeid)
	}
	if o.typeid != typeid {
		return nil, errorf(ErrNotRegistered, "object %d is a %s, not a %s", id, o.typeid, typeid)
	}
	if !s.holdLocked(ss, o) {
		return nil, errorf(ErrManagerGone, "the session has ended")
	}
	return &response{ints: []int64{int64(o.id)}, vals: names(o.methods)}, nil
}

// holdLocked makes ss a holder of o, unless ss has ended: a session that
// ended (its primary connection's end, on another goroutine) holds nothing
// more, or o would live for ever. It reports whether ss holds o. s.mu is
// held.
func (s *Server) holdLocked(ss *session, o *served) bool {
	if ss.ended {
		return false
	}
	o.holders[ss] = struct{}{}
	ss.holds[o.id] = o
	return true
}

// create makes an object of the type q.name, or finds the one of that
// name, and makes ss a holder of it.
func (s *Server) create(ss *session, q *request) (*response, error) {
	if len(q.vals) < 1 {
		return nil, fmt.Errorf("%w: a create without a name", mp.ErrBadMessage)
	}
	name := string(q.vals[0])
	if name != "" {
		s.mu.Lock()
		o := s.named[name]
		if o != nil {
			defer s.mu.Unlock()
			if o.typeid != q.name {
				return nil, errorf(ErrNotRegistered, "the object named %q is a %s, not a %s", name, o.typeid, q.name)
			}
			if !s.holdLocked(ss, o) {
				return nil, errorf(ErrManagerGone, "the session has ended")
			}
			return &response{ints: []int64{int64(o.id)}, vals: names(o.methods)}, nil
		}
		s.mu.Unlock()
	}
	obj, identity, methods, err := construct(q.name, q.ints, q.vals[1:])
	if err != nil {
		return nil, err
	}
	var contents [][]byte
	if c, ok := obj.(container); ok {
		contents = c.contents() // a Value's first value, say
		for _, v := range contents {
			s.store(v)
		}
	}
	o, err := s.add(ss, q.name, name, obj, identity, methods)
	if o == nil || o.obj != obj {
		// Not kept: another session made the object of that name
		// meanwhile, or the constructor returned one the server has.
		var gone []*served
		for _, v := range contents {
			gone = s.unstore(v, gone)
		}
		s.cascade(gone)
	}
	if err != nil {
		return nil, err
	}
	return &response{ints: []int64{int64(o.id)}, vals: names(o.methods)}, nil
}

// add adds a new object to the server, or finds the object of that name
// or identity, and makes ss hold it.
func (s *Server) add(ss *session, typeid, name string, obj object, identity any, methods []string) (*served, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss.ended {
		return nil, errorf(ErrManagerGone, "the session has ended")
	}
	var o *served
	switch {
	case name != "" && s.named[name] != nil:
		o = s.named[name]
		if o.typeid != typeid {
			return nil, errorf(ErrNotRegistered, "the object named %q is a %s, not a %s", name, o.typeid, typeid)
		}
	case identity != nil && s.identity[identity] != nil:
		o = s.identity[identity]
	default:
		s.nextID++
		o = &served{id: s.nextID, typeid: typeid, obj: obj, methods: methods, holders: map[*session]struct{}{}, name: name, identity: identity}
		s.objects[o.id] = o
		if identity != nil {
			s.identity[identity] = o
		}
		if name != "" {
			s.named[name] = o
		}
	}
	s.holdLocked(ss, o)
	return o, nil
}

// names encodes method names as values of a response.
func names(ms []string) [][]byte {
	out := make([][]byte, len(ms))
	for i, m := range ms {
		out[i] = []byte(m)
	}
	return out
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// callObject calls a method of an object.
func (s *Server) callObject(c *mp.Conn, ss *session, q *request) (*response, error) {
	o, err := s.lookup(q.id)
	if err != nil {
		return nil, err
	}
	cl := &call{srv: s, conn: c, sess: ss, num: q.call}
	defer cl.finish()
	return o.obj.call(cl, q.name, q.ints, q.vals)
}

// cancelCall cancels a blocking call of a session: the proxy's context
// ended.
func (s *Server) cancelCall(q *request) (*response, error) {
	if len(q.vals) != 1 || len(q.vals[0]) != 16 {
		return nil, fmt.Errorf("%w: a cancel without a session", mp.ErrBadMessage)
	}
	s.mu.Lock()
	ss := s.sessions[[16]byte(q.vals[0])]
	var cancel context.CancelFunc
	if ss != nil {
		cancel = ss.calls[q.call]
	}
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	return &response{}, nil
}

// touch records that o keeps state for ss, so that o hears of its end.
// It reports false if ss has ended: o must then forget ss at once.
func (s *Server) touch(ss *session, o sessionEnder) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss.ended {
		return false
	}
	ss.touched[o] = struct{}{}
	return true
}

// call is a call in progress, as a served object sees it.
type call struct {
	srv  *Server
	conn *mp.Conn
	sess *session
	num  uint64 // the session's number for the call, for opCancel; 0 if it cannot be cancelled

	ctx      context.Context
	cancel   context.CancelFunc
	watching chan struct{} // closed when the watch of conn ends
	gone     []*served     // forgotten by the call: finish lets go of what they stored
}

// context returns a context that ends when the call should stop waiting:
// the caller went away (its connection ended, or it sent something, which
// it does only by ending), its proxy's context ended (opCancel), its
// session ended, or the server stopped. Objects call it before they wait.
func (c *call) context() context.Context {
	if c.ctx != nil {
		return c.ctx
	}
	c.ctx, c.cancel = context.WithCancel(c.sess.ctx)
	c.watching = make(chan struct{})
	go func() {
		defer close(c.watching)
		if ok, _ := c.conn.PollContext(c.ctx); ok {
			c.cancel()
		}
	}()
	if c.num != 0 {
		c.srv.mu.Lock()
		c.sess.calls[c.num] = c.cancel
		c.srv.mu.Unlock()
	}
	return c.ctx
}

// peerGone reports whether the caller has gone: its connection has ended
// (or has something to read, which a caller that waits for its reply
// sends only by ending), or its call was cancelled.
func (c *call) peerGone() bool {
	if c.ctx != nil && c.ctx.Err() != nil {
		return true
	}
	ok, err := c.conn.Poll(0)
	return ok || err != nil
}

// finish ends the watch that context began, and lets go of what the
// objects the call forgot stored (once the object called no longer holds
// its mutex).
func (c *call) finish() {
	c.srv.cascade(c.gone)
	if c.ctx == nil {
		return
	}
	c.cancel()
	<-c.watching
	if c.num != 0 {
		c.srv.mu.Lock()
		delete(c.sess.calls, c.num)
		c.srv.mu.Unlock()
	}
}

// touch records that o keeps state for the caller's session.
func (c *call) touch(o sessionEnder) bool { return c.srv.touch(c.sess, o) }

// stored records that the object stored v (see Server.store).
func (c *call) stored(v []byte) { c.srv.store(v) }

// dropped records that the object no longer stores vs.
func (c *call) dropped(vs ...[]byte) {
	for _, v := range vs {
		c.gone = c.srv.unstore(v, c.gone)
	}
}

// returned records that v goes back to the caller: the caller's session
// holds the objects v names, so that none is forgotten before the caller's
// proxies ask for it (a value Get takes off a queue, say).
func (c *call) returned(vs ...[]byte) {
	var ids []uint64
	for _, v := range vs {
		ids = append(ids, c.srv.namedIn(v)...)
	}
	if len(ids) == 0 {
		return
	}
	c.srv.mu.Lock()
	defer c.srv.mu.Unlock()
	if c.sess.ended {
		return
	}
	for _, id := range ids {
		if o := c.srv.objects[id]; o != nil {
			c.srv.holdLocked(c.sess, o)
		}
	}
}
