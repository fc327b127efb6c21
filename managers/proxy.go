package managers

import (
	"context"
	"fmt"
	"slices"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/internal/wire"
)

// Proxy is a proxy of an object of a registered type (see Register):
// Python's BaseProxy and its _callmethod. Call reaches the object's
// exposed methods by name, with arguments and results that cross as
// values do; Call[R] is the typed form. A typed proxy is a small struct
// around it, as Python's custom proxy types are:
//
//	type CounterProxy struct{ managers.Proxy }
//
//	func (c CounterProxy) Add(n int) (int, error) { return managers.Call[int](&c.Proxy, "Add", n) }
//
//	p, err := managers.New(m, "Counter", 0)
//	c := CounterProxy{*p}
//
// Embed the Proxy, not a *Proxy: the struct then crosses into children
// too, as a decoded CounterProxy has a Proxy to decode into. Copies of a
// Proxy share its hold of the object.
//
// A Proxy is safe for concurrent use, and crosses into a child process as
// an argument of a Process (or in a message), as a Dict does.
type Proxy struct{ r *ref }

// New creates an object of the type registered as typeid in m's server,
// calling its constructor there with args, and returns its proxy:
// Python's manager.typeid(*args). A constructor that returns an object
// the server already has gives a proxy of that object (see Register). An
// error of the constructor is a *RemoteError; a type id the server has not
// registered is an error wrapping ErrNotRegistered.
func New(m *Manager, typeid string, args ...any) (*Proxy, error) {
	vals, err := encodeArgs(args)
	if err != nil {
		return nil, fmt.Errorf("mp: New(%q): %w", typeid, err)
	}
	r, err := create(m, typeid, "", nil, vals...)
	if err != nil {
		return nil, err
	}
	return &Proxy{r}, nil
}

func encodeArgs(args []any) ([][]byte, error) {
	vals := make([][]byte, len(args))
	for i, a := range args {
		b, err := wire.Encode(nil, a)
		if err != nil {
			return nil, fmt.Errorf("argument %d: %w", i, err)
		}
		vals[i] = b
	}
	return vals, nil
}

// TypeID returns the type id the object was registered with.
func (p *Proxy) TypeID() string { return p.r.typeid }

// Methods returns the names of the methods that the object exposes,
// sorted; nil for a decoded proxy that has made no call yet.
func (p *Proxy) Methods() []string {
	p.r.h.mu.Lock()
	defer p.r.h.mu.Unlock()
	return slices.Clone(p.r.methods)
}

// Call calls the object's method with args and discards its results. An
// error the method returned, or its panic, is a *RemoteError; a method
// that is not exposed is an error wrapping ErrNotExposed, and arguments
// that do not fit its parameters one wrapping mp.ErrArgs.
func (p *Proxy) Call(method string, args ...any) error {
	return p.CallInto(method, args)
}

// CallInto calls the object's method with args, and decodes its results
// (but the error, which becomes CallInto's) into results, pointers to
// variables of their types (or of types of the same shape). It may be
// given fewer results than the method returns: the rest are discarded.
func (p *Proxy) CallInto(method string, args []any, results ...any) error {
	return p.CallContext(context.Background(), method, args, results...)
}

// CallContext is CallInto with a context: once ctx ends, the method's
// context.Context (if its first parameter is one) ends too, and
// CallContext returns ctx's error unless the method returned first.
func (p *Proxy) CallContext(ctx context.Context, method string, args []any, results ...any) error {
	vals, err := encodeArgs(args)
	if err != nil {
		return fmt.Errorf("mp: %s.%s: %w", p.r.typeid, method, err)
	}
	resp, err := p.r.callContext(ctx, method, nil, vals...)
	if err != nil {
		return err
	}
	if len(results) > len(resp.vals) {
		return fmt.Errorf("%w: %s.%s returned %d results, not %d", mp.ErrArgs, p.r.typeid, method, len(resp.vals), len(results))
	}
	for i, res := range results {
		if err := wire.Decode(resp.vals[i], res); err != nil {
			return fmt.Errorf("mp: %s.%s: result %d: %w", p.r.typeid, method, i, err)
		}
	}
	return nil
}

// Call calls method of p's object with args and returns its first result
// as an R: the typed form of Proxy.Call.
func Call[R any](p *Proxy, method string, args ...any) (R, error) {
	var r R
	err := p.CallInto(method, args, &r)
	return r, err
}

// Close lets go of the object; see Dict.Close.
func (p *Proxy) Close() error { return p.r.close() }

// String describes the proxy, as Python's repr of a proxy does.
func (p *Proxy) String() string { return p.r.String() }

// MarshalBinary encodes the proxy, so that it crosses into another
// process.
func (p *Proxy) MarshalBinary() ([]byte, error) { return p.r.marshal() }

// UnmarshalBinary is MarshalBinary's inverse.
func (p *Proxy) UnmarshalBinary(b []byte) error {
	if p == nil {
		return fmt.Errorf("%w: decoding into a nil *Proxy: a typed proxy must embed managers.Proxy, not *managers.Proxy", mp.ErrBadMessage)
	}
	r, err := unmarshalRef(b, "")
	if err != nil {
		return err
	}
	if builtins[r.typeid] != nil {
		return fmt.Errorf("%w: a proxy of a %s decoded as a Proxy", mp.ErrBadMessage, r.typeid)
	}
	p.r = r
	return nil
}
