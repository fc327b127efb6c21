package managers

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/internal/wire"
)

// ref is what every proxy holds: which object of which manager, and this
// process's hold of it. Proxies are used through pointers, and copies of
// a proxy's pointer share its ref. When a ref becomes unreachable, a
// cleanup lets its hold go (as Python's proxies decref when collected).
type ref struct {
	family, address string
	key             []byte // nil: the process tree's key
	nonce           uint64 // the server's instance
	id              uint64
	typeid          string
	methods         []string // what a registered type exposes, once known
	h               *hold
}

// hold is a ref's hold of its object, apart from the ref so that the
// ref's cleanup can use it.
type hold struct {
	mu     sync.Mutex
	id     uint64 // the object's
	c      *client
	shared bool   // c is the process's shared client: a decoded proxy's
	held   bool   // the session gen holds the object for this proxy
	gen    uint64 // the session the hold is in
	closed bool
}

// newRef returns the ref of an object that c's session just created or
// held, at generation gen.
func newRef(c *client, nonce, id uint64, typeid string, methods []string, gen uint64) *ref {
	r := &ref{family: c.family, address: c.address, key: c.key, nonce: nonce, id: id, typeid: typeid, methods: methods,
		h: &hold{id: id, c: c, held: true, gen: gen}}
	runtime.AddCleanup(r, (*hold).drop, r.h)
	return r
}

// create asks m's server for a new object of typeid (or the one named
// name), with the constructor's integers and values.
func create(m *Manager, typeid, name string, ints []int64, vals ...[]byte) (*ref, error) {
	c, err := m.client()
	if err != nil {
		return nil, err
	}
	resp, err := c.do(&request{op: opCreate, name: typeid, ints: ints, vals: append([][]byte{[]byte(name)}, vals...)}, "creating a "+typeid)
	c.stored(typeid, vals)
	if err != nil {
		return nil, err
	}
	if len(resp.ints) != 1 {
		return nil, fmt.Errorf("%w: a bad reply to a create", mp.ErrBadMessage)
	}
	id := uint64(resp.ints[0])
	gen := c.created(id)
	c.mu.Lock()
	nonce := c.nonce
	c.mu.Unlock()
	return newRef(c, nonce, id, typeid, methodNames(resp.vals), gen), nil
}

func methodNames(vals [][]byte) []string {
	if len(vals) == 0 {
		return nil
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out
}

// client returns the client r's calls go through, and makes sure its
// session holds r's object: a decoded proxy's first call asks the server
// to hold it, and so does the first call after a session was lost.
func (r *ref) client() (*client, error) {
	if r == nil || r.h == nil {
		return nil, fmt.Errorf("%w: a proxy must come from its constructor (NewDict, New, ...)", ErrClosed)
	}
	h := r.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, fmt.Errorf("%w: the %s proxy is closed", ErrClosed, r.typeid)
	}
	c := h.c
	if c == nil || h.shared && c.isClosed() {
		c = sharedClient(r.family, r.address, r.key)
		h.c, h.shared, h.held = c, true, false
	}
	if h.held && h.gen == c.gen.Load() {
		return c, nil
	}
	if gen, ok := c.holdLocal(r.id); ok {
		h.held, h.gen = true, gen
		return c, nil
	}
	resp, err := c.do(&request{op: opHold, id: r.id, name: r.typeid, ints: []int64{int64(r.nonce)}}, r.typeid)
	if err != nil {
		return nil, err
	}
	if r.methods == nil {
		r.methods = methodNames(resp.vals)
	}
	h.held, h.gen = true, c.created(r.id)
	return c, nil
}

// call calls method of r's object.
func (r *ref) call(method string, ints []int64, vals ...[]byte) (*response, error) {
	c, err := r.client()
	if err != nil {
		return nil, err
	}
	resp, err := c.do(&request{op: opCall, id: r.id, name: method, ints: ints, vals: vals}, r.typeid+"."+method)
	c.stored(r.typeid, vals)
	return resp, err
}

// callContext is call for a method that may wait: ctx ending cancels the
// wait in the server.
func (r *ref) callContext(ctx context.Context, method string, ints []int64, vals ...[]byte) (*response, error) {
	c, err := r.client()
	if err != nil {
		return nil, err
	}
	resp, err := c.doContext(ctx, &request{op: opCall, id: r.id, name: method, ints: ints, vals: vals}, r.typeid+"."+method)
	c.stored(r.typeid, vals)
	return resp, err
}

// close lets r's hold go: the object lives on while another proxy, here or
// in another process, holds it. Later calls return ErrClosed.
func (r *ref) close() error {
	if r == nil || r.h == nil {
		return nil
	}
	r.h.drop()
	return nil
}

// drop lets the hold go; it is a ref's cleanup too.
func (h *hold) drop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	if h.held {
		h.c.release(h.id, h.gen)
	}
}

// marshal encodes r, so that a proxy can cross into another process (as
// an argument of a Process, in a message, or as a value stored in another
// object of the manager). The session then holds the object until it ends,
// so that the process that decodes it finds it: see "Lifetime" in the
// package documentation.
func (r *ref) marshal() ([]byte, error) {
	for range 3 {
		c, err := r.client()
		if err != nil {
			return nil, err
		}
		r.h.mu.Lock()
		gen := r.h.gen
		r.h.mu.Unlock()
		if c.export(r.id, gen) {
			break
		}
	}
	return r.marshalEncoding()
}

// marshalEncoding writes r's encoding: the marker, the manager's address,
// its key unless it is the process tree's, and the object.
func (r *ref) marshalEncoding() ([]byte, error) {
	w := &wire.Writer{}
	w.Raw(proxyMagic)
	w.String(r.family)
	w.String(r.address)
	if r.key == nil || bytes.Equal(r.key, mp.CurrentProcess().AuthKey) {
		w.Bool(false)
	} else {
		w.Bool(true)
		w.Bytes(r.key)
	}
	w.Uint(r.nonce)
	w.Uint(r.id)
	w.String(r.typeid)
	return w.B, nil
}

// unmarshalRef is marshal's inverse: a proxy of typeid (or of any type if
// typeid is empty) that holds nothing until its first call.
func unmarshalRef(b []byte, typeid string) (*ref, error) {
	if !bytes.HasPrefix(b, proxyMagic) {
		return nil, fmt.Errorf("%w: not an encoded proxy", mp.ErrBadMessage)
	}
	d := wire.NewReader(b[len(proxyMagic):])
	r := &ref{family: d.String(), address: d.String()}
	if d.Bool() {
		r.key = bytes.Clone(d.Bytes())
	}
	r.nonce = d.Uint()
	r.id = d.Uint()
	r.typeid = d.String()
	if err := d.End(); err != nil {
		return nil, err
	}
	if typeid != "" && r.typeid != typeid {
		return nil, fmt.Errorf("%w: a proxy of a %s decoded as a proxy of a %s", mp.ErrBadMessage, r.typeid, typeid)
	}
	r.h = &hold{id: r.id, shared: true}
	runtime.AddCleanup(r, (*hold).drop, r.h)
	return r, nil
}

// String describes the proxy: its type id, object and manager, as
// Python's repr of a proxy does.
func (r *ref) String() string {
	if r == nil {
		return "<nil proxy>"
	}
	return fmt.Sprintf("<%s proxy of object %d of the manager at %s:%s>", r.typeid, r.id, r.family, r.address)
}
