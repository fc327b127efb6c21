package managers

import (
	"sync"

	"github.com/go-mp/mp/internal/wire"
)

// Namespace is a proxy of a namespace that a manager's server holds: named
// attributes, each of any type that crosses as values do (Python's
// NamespaceProxy: n.x = 1 is Set("x", 1)). Attr is the typed Get. Each
// method is one round trip, and atomic. A Namespace is safe for concurrent
// use and crosses into other processes as a Dict does.
type Namespace struct{ r *ref }

// NewNamespace creates an empty namespace in m's server and returns its
// proxy: Python's manager.Namespace().
func NewNamespace(m *Manager, opts ...CreateOption) (*Namespace, error) {
	r, err := create(m, typeNamespace, createName(opts), nil)
	if err != nil {
		return nil, err
	}
	return &Namespace{r}, nil
}

// Set sets the attribute name to v.
func (n *Namespace) Set(name string, v any) error {
	b, err := encode(v)
	if err != nil {
		return err
	}
	_, err = n.r.call("set", nil, []byte(name), b)
	return err
}

// Get decodes the attribute name into ptr, a non-nil pointer. An attribute
// that is not set is an error wrapping ErrKeyNotFound (Python's
// AttributeError).
func (n *Namespace) Get(name string, ptr any) error {
	resp, err := n.r.call("get", nil, []byte(name))
	if err != nil {
		return err
	}
	b, err := oneVal(resp)
	if err != nil {
		return err
	}
	return wire.Decode(b, ptr)
}

// Attr returns the attribute name of n as a T: the typed Namespace.Get.
func Attr[T any](n *Namespace, name string) (T, error) {
	var v T
	err := n.Get(name, &v)
	return v, err
}

// Has reports whether the attribute name is set: hasattr(n, name).
func (n *Namespace) Has(name string) (bool, error) {
	resp, err := n.r.call("has", nil, []byte(name))
	if err != nil {
		return false, err
	}
	v, err := oneInt(resp)
	return v == 1, err
}

// Delete removes the attribute name. One that is not set is an error
// wrapping ErrKeyNotFound.
func (n *Namespace) Delete(name string) error {
	_, err := n.r.call("delete", nil, []byte(name))
	return err
}

// Names returns the names of the attributes that are set, sorted.
func (n *Namespace) Names() ([]string, error) {
	resp, err := n.r.call("names", nil)
	if err != nil {
		return nil, err
	}
	return methodNames(resp.vals), nil
}

// Close lets go of the namespace; see Dict.Close.
func (n *Namespace) Close() error { return n.r.close() }

// String describes the proxy, as Python's repr of a proxy does.
func (n *Namespace) String() string { return n.r.String() }

// MarshalBinary encodes the proxy, so that it crosses into another
// process.
func (n *Namespace) MarshalBinary() ([]byte, error) { return n.r.marshal() }

// UnmarshalBinary is MarshalBinary's inverse.
func (n *Namespace) UnmarshalBinary(b []byte) error {
	r, err := unmarshalRef(b, typeNamespace)
	if err != nil {
		return err
	}
	n.r = r
	return nil
}

// namespaceObject is a namespace in the server.
type namespaceObject struct {
	mu    sync.Mutex
	attrs map[string][]byte
}

func newNamespaceObject(ints []int64, vals [][]byte) (object, error) {
	if len(ints) != 0 || len(vals) != 0 {
		return nil, badCall(typeNamespace, "create")
	}
	return &namespaceObject{attrs: map[string][]byte{}}, nil
}

func (n *namespaceObject) call(c *call, method string, ints []int64, vals [][]byte) (*response, error) {
	if len(ints) != 0 || method == "set" && (len(vals) != 2 || !isValue(vals[1])) ||
		method != "set" && method != "names" && len(vals) != 1 {
		return nil, badCall(typeNamespace, method)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	switch method {
	case "set":
		c.stored(vals[1])
		if old, ok := n.attrs[string(vals[0])]; ok {
			c.dropped(old)
		}
		n.attrs[string(vals[0])] = keep(vals[1])
		return &response{}, nil
	case "get":
		v, ok := n.attrs[string(vals[0])]
		if !ok {
			return nil, errorf(ErrKeyNotFound, "the namespace has no attribute %q", vals[0])
		}
		c.returned(v)
		return &response{vals: [][]byte{v}}, nil
	case "has":
		_, ok := n.attrs[string(vals[0])]
		return &response{ints: []int64{boolInt(ok)}}, nil
	case "delete":
		old, ok := n.attrs[string(vals[0])]
		if !ok {
			return nil, errorf(ErrKeyNotFound, "the namespace has no attribute %q", vals[0])
		}
		c.dropped(old)
		delete(n.attrs, string(vals[0]))
		return &response{}, nil
	case "names":
		return &response{vals: names(sortedKeys(n.attrs))}, nil
	}
	return nil, unknownMethod(typeNamespace, method)
}

func (n *namespaceObject) contents() [][]byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([][]byte, 0, len(n.attrs))
	for _, v := range n.attrs {
		out = append(out, v)
	}
	return out
}
