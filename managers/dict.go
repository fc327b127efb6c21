package managers

import (
	"context"
	"fmt"
	"iter"
	"sync"

	"github.com/go-mp/mp"
)

// Dict is a proxy of a dict that a manager's server holds: Python's
// DictProxy, typed. Keys and values cross as values do (see "Values" in
// mp's documentation); keys are compared by their encodings, so 1 and 1.0
// are different keys of a Dict[any, V], and a key that holds a map has no
// stable encoding.
//
// Each method is one round trip, and atomic: the server applies it whole,
// between any two other calls. Python's classic bug, d[k] += 1 through a
// proxy (a Get, then a Set, with other processes' calls in between), has
// two atomic forms here: Add, for numbers, and Modify, which runs a
// registered function in the server. Get followed by Set is not atomic.
//
// A Dict is safe for concurrent use, and crosses into a child process as
// an argument of a Process (or in a message, or stored in another of the
// manager's objects), where it calls the same server. Use it through its
// pointer; the zero Dict is not usable.
type Dict[K comparable, V any] struct{ r *ref }

// NewDict creates an empty dict in m's server and returns its proxy:
// Python's manager.dict().
func NewDict[K comparable, V any](m *Manager, opts ...CreateOption) (*Dict[K, V], error) {
	r, err := create(m, typeDict, createName(opts), nil)
	if err != nil {
		return nil, err
	}
	return &Dict[K, V]{r}, nil
}

// Set sets the value of key: d[key] = v.
func (d *Dict[K, V]) Set(key K, v V) error {
	k, val, err := encodeKey(key, v)
	if err != nil {
		return err
	}
	_, err = d.r.call("set", nil, k, val)
	return err
}

// Get returns the value of key: d[key]. A key d lacks is an error wrapping
// ErrKeyNotFound (Python's KeyError).
func (d *Dict[K, V]) Get(key K) (V, error) {
	return d.getOne("get", key)
}

// Lookup returns the value of key and true, or the zero value and false
// if d lacks key.
func (d *Dict[K, V]) Lookup(key K) (V, bool, error) {
	var zero V
	k, err := encode(key)
	if err != nil {
		return zero, false, err
	}
	resp, err := d.r.call("lookup", nil, k)
	if err != nil {
		return zero, false, err
	}
	if len(resp.vals) == 0 {
		return zero, false, nil
	}
	v, err := decodeAs[V](resp.vals[0])
	return v, err == nil, err
}

// GetDefault returns the value of key, or def if d lacks it: Python's
// d.get(key, def).
func (d *Dict[K, V]) GetDefault(key K, def V) (V, error) {
	v, ok, err := d.Lookup(key)
	if err != nil || !ok {
		return def, err
	}
	return v, nil
}

// Contains reports whether d has key: key in d.
func (d *Dict[K, V]) Contains(key K) (bool, error) {
	k, err := encode(key)
	if err != nil {
		return false, err
	}
	resp, err := d.r.call("contains", nil, k)
	if err != nil {
		return false, err
	}
	n, err := oneInt(resp)
	return n == 1, err
}

// Delete removes key: del d[key]. A key d lacks is an error wrapping
// ErrKeyNotFound.
func (d *Dict[K, V]) Delete(key K) error {
	k, err := encode(key)
	if err != nil {
		return err
	}
	_, err = d.r.call("delete", nil, k)
	return err
}

// Pop removes key and returns its value. A key d lacks is an error
// wrapping ErrKeyNotFound.
func (d *Dict[K, V]) Pop(key K) (V, error) {
	return d.getOne("pop", key)
}

func (d *Dict[K, V]) getOne(method string, key K) (V, error) {
	k, err := encode(key)
	if err != nil {
		var zero V
		return zero, err
	}
	return callOne[V](context.Background(), d.r, method, nil, k)
}

// PopItem removes the key set last and returns it and its value, as
// Python's popitem does. An empty Dict is an error wrapping
// ErrKeyNotFound.
func (d *Dict[K, V]) PopItem() (K, V, error) {
	var (
		k K
		v V
	)
	resp, err := d.r.call("popitem", nil)
	if err != nil {
		return k, v, err
	}
	if len(resp.vals) != 2 {
		return k, v, fmt.Errorf("%w: a reply with %d values, not 2", mp.ErrBadMessage, len(resp.vals))
	}
	if k, err = decodeAs[K](resp.vals[0]); err != nil {
		return k, v, err
	}
	v, err = decodeAs[V](resp.vals[1])
	return k, v, err
}

// SetDefault returns the value of key, setting it to def first if d lacks
// key: Python's setdefault, in one atomic step.
func (d *Dict[K, V]) SetDefault(key K, def V) (V, error) {
	k, val, err := encodeKey(key, def)
	if err != nil {
		return def, err
	}
	return callOne[V](context.Background(), d.r, "setdefault", nil, k, val)
}

// Update sets the keys of m to their values in one atomic step: Python's
// update.
func (d *Dict[K, V]) Update(m map[K]V) error {
	vals := make([][]byte, 0, 2*len(m))
	for k, v := range m {
		kb, err := encode(k)
		if err != nil {
			return err
		}
		vb, err := encode(v)
		if err != nil {
			return err
		}
		vals = append(vals, kb, vb)
	}
	_, err := d.r.call("update", nil, vals...)
	return err
}

// Len returns the number of keys: len(d).
func (d *Dict[K, V]) Len() (int, error) {
	resp, err := d.r.call("len", nil)
	if err != nil {
		return 0, err
	}
	n, err := oneInt(resp)
	return int(n), err
}

// Clear removes every key.
func (d *Dict[K, V]) Clear() error {
	_, err := d.r.call("clear", nil)
	return err
}

// Keys returns the keys, in the order they were first set (Python's
// order).
func (d *Dict[K, V]) Keys() ([]K, error) {
	resp, err := d.r.call("keys", nil)
	if err != nil {
		return nil, err
	}
	return decodeAll[K](resp.vals)
}

// Values returns the values, in the order of their keys.
func (d *Dict[K, V]) Values() ([]V, error) {
	resp, err := d.r.call("values", nil)
	if err != nil {
		return nil, err
	}
	return decodeAll[V](resp.vals)
}

// Items returns an iterator over the keys and values, in the order of the
// keys, as they were when Items was called: it gets them all in one round
// trip (Python's items() over a proxy returns a list too), and decodes
// them before it returns, so that iterating cannot fail.
func (d *Dict[K, V]) Items() (iter.Seq2[K, V], error) {
	keys, vals, err := d.items()
	if err != nil {
		return nil, err
	}
	return func(yield func(K, V) bool) {
		for i := range keys {
			if !yield(keys[i], vals[i]) {
				return
			}
		}
	}, nil
}

// Map returns a copy of the dict as a map: Python's d.copy().
func (d *Dict[K, V]) Map() (map[K]V, error) {
	keys, vals, err := d.items()
	if err != nil {
		return nil, err
	}
	m := make(map[K]V, len(keys))
	for i, k := range keys {
		m[k] = vals[i]
	}
	return m, nil
}

func (d *Dict[K, V]) items() ([]K, []V, error) {
	resp, err := d.r.call("items", nil)
	if err != nil {
		return nil, nil, err
	}
	if len(resp.vals)%2 != 0 {
		return nil, nil, fmt.Errorf("%w: an odd number of values for items", mp.ErrBadMessage)
	}
	keys := make([]K, len(resp.vals)/2)
	vals := make([]V, len(resp.vals)/2)
	for i := range keys {
		if keys[i], err = decodeAs[K](resp.vals[2*i]); err != nil {
			return nil, nil, err
		}
		if vals[i], err = decodeAs[V](resp.vals[2*i+1]); err != nil {
			return nil, nil, err
		}
	}
	return keys, vals, nil
}

// Add adds delta to the value of key, which must be a number (V an
// integer or floating-point type), and returns the sum: d[key] += delta
// in one atomic step, in the server. A key d lacks counts as zero.
// Integers wrap around as Go's do. A V that is not a number, or a stored
// value that is not one, is an error wrapping ErrNotNumber.
func (d *Dict[K, V]) Add(key K, delta V) (V, error) {
	var zero V
	kind, bits, ok := numberKind[V]()
	if !ok {
		return zero, fmt.Errorf("%w: Add on a Dict of %T", ErrNotNumber, zero)
	}
	k, dv, err := encodeKey(key, delta)
	if err != nil {
		return zero, err
	}
	return callOne[V](context.Background(), d.r, "add", []int64{kind, bits}, k, dv)
}

// Modify sets the value of key to fn(old, found), where old is its value
// (found true) or the zero value (found false), and returns the new
// value: a read-modify-write in one atomic step. fn runs in the manager's
// process, so it must be a top-level function registered there with
// RegisterFunc (in an init function, or before mp.Main), and it must not
// call the manager. A fn that panics leaves the value as it was, and
// Modify returns a *RemoteError.
func (d *Dict[K, V]) Modify(key K, fn func(old V, found bool) V) (V, error) {
	var zero V
	name, err := funcName(fn)
	if err != nil {
		return zero, err
	}
	k, err := encode(key)
	if err != nil {
		return zero, err
	}
	return callOne[V](context.Background(), d.r, "modify", nil, k, []byte(name))
}

// Close lets go of the dict: the server keeps it while another proxy, in
// this process or another, holds it (see "Lifetime" in the package
// documentation). Later calls return ErrClosed. Closing twice is
// harmless; a proxy that is no longer used lets go by itself once
// collected.
func (d *Dict[K, V]) Close() error { return d.r.close() }

// String describes the proxy, as Python's repr of a proxy does.
func (d *Dict[K, V]) String() string { return d.r.String() }

// MarshalBinary encodes the proxy, so that it crosses into another
// process; see Dict.
func (d *Dict[K, V]) MarshalBinary() ([]byte, error) { return d.r.marshal() }

// UnmarshalBinary is MarshalBinary's inverse. The proxy decoded asks the
// server for its object at its first call.
func (d *Dict[K, V]) UnmarshalBinary(b []byte) error {
	r, err := unmarshalRef(b, typeDict)
	if err != nil {
		return err
	}
	d.r = r
	return nil
}

// decodeAll decodes the values of a reply.
func decodeAll[T any](vals [][]byte) ([]T, error) {
	out := make([]T, len(vals))
	for i, b := range vals {
		var err error
		if out[i], err = decodeAs[T](b); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// dictObject is a dict in the server: encoded keys and values, in the
// order keys were first set.
type dictObject struct {
	mu      sync.Mutex
	index   map[string]int // key: its entry
	entries []dictEntry
	live    int
}

type dictEntry struct {
	key  string
	val  []byte
	gone bool
}

func newDictObject(ints []int64, vals [][]byte) (object, error) {
	if len(ints) != 0 || len(vals) != 0 {
		return nil, badCall(typeDict, "create")
	}
	return &dictObject{index: map[string]int{}}, nil
}

func (d *dictObject) lookup(k []byte) (int, bool) {
	i, ok := d.index[string(k)]
	return i, ok
}

func (d *dictObject) set(c *call, k, v []byte) {
	c.stored(v)
	if i, ok := d.lookup(k); ok {
		c.dropped(d.entries[i].val)
		d.entries[i].val = keep(v)
		return
	}
	c.stored(k)
	d.index[string(k)] = len(d.entries)
	d.entries = append(d.entries, dictEntry{key: string(k), val: keep(v)})
	d.live++
}

func (d *dictObject) contents() [][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([][]byte, 0, 2*d.live)
	for _, e := range d.entries {
		if !e.gone {
			out = append(out, []byte(e.key), e.val)
		}
	}
	return out
}

func (d *dictObject) remove(c *call, i int) []byte {
	e := &d.entries[i]
	v := e.val
	c.dropped([]byte(e.key), v)
	delete(d.index, e.key)
	*e = dictEntry{gone: true}
	d.live--
	switch {
	case d.live == 0:
		d.entries = d.entries[:0]
	case len(d.entries) > 32 && d.live < len(d.entries)/2:
		kept := d.entries[:0]
		for _, e := range d.entries {
			if !e.gone {
				d.index[e.key] = len(kept)
				kept = append(kept, e)
			}
		}
		clear(d.entries[len(kept):])
		d.entries = kept
	}
	return v
}

func (d *dictObject) call(c *call, method string, ints []int64, vals [][]byte) (*response, error) {
	if err := checkValues(typeDict, method, vals); err != nil && method != "modify" {
		return nil, err
	}
	want := func(n int) error {
		if len(vals) != n {
			return badCall(typeDict, method)
		}
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch method {
	case "set":
		if err := want(2); err != nil {
			return nil, err
		}
		d.set(c, vals[0], vals[1])
		return &response{}, nil
	case "get", "pop":
		if err := want(1); err != nil {
			return nil, err
		}
		i, ok := d.lookup(vals[0])
		if !ok {
			return nil, errorf(ErrKeyNotFound, "the dict has no such key")
		}
		v := d.entries[i].val
		c.returned(v)
		if method == "pop" {
			d.remove(c, i)
		}
		return &response{vals: [][]byte{v}}, nil
	case "lookup":
		if err := want(1); err != nil {
			return nil, err
		}
		if i, ok := d.lookup(vals[0]); ok {
			c.returned(d.entries[i].val)
			return &response{vals: [][]byte{d.entries[i].val}}, nil
		}
		return &response{}, nil
	case "contains":
		if err := want(1); err != nil {
			return nil, err
		}
		_, ok := d.lookup(vals[0])
		return &response{ints: []int64{boolInt(ok)}}, nil
	case "delete":
		if err := want(1); err != nil {
			return nil, err
		}
		i, ok := d.lookup(vals[0])
		if !ok {
			return nil, errorf(ErrKeyNotFound, "the dict has no such key")
		}
		d.remove(c, i)
		return &response{}, nil
	case "popitem":
		if err := want(0); err != nil {
			return nil, err
		}
		for i := len(d.entries) - 1; i >= 0; i-- {
			if !d.entries[i].gone {
				k, v := []byte(d.entries[i].key), d.entries[i].val
				c.returned(k, v)
				d.remove(c, i)
				return &response{vals: [][]byte{k, v}}, nil
			}
		}
		return nil, errorf(ErrKeyNotFound, "popitem(): dictionary is empty")
	case "setdefault":
		if err := want(2); err != nil {
			return nil, err
		}
		if i, ok := d.lookup(vals[0]); ok {
			c.returned(d.entries[i].val)
			return &response{vals: [][]byte{d.entries[i].val}}, nil
		}
		d.set(c, vals[0], vals[1])
		c.returned(vals[1])
		return &response{vals: [][]byte{vals[1]}}, nil
	case "update":
		if len(vals)%2 != 0 {
			return nil, badCall(typeDict, method)
		}
		for i := 0; i < len(vals); i += 2 {
			d.set(c, vals[i], vals[i+1])
		}
		return &response{}, nil
	case "len":
		return &response{ints: []int64{int64(d.live)}}, nil
	case "clear":
		for _, e := range d.entries {
			if !e.gone {
				c.dropped([]byte(e.key), e.val)
			}
		}
		clear(d.index)
		clear(d.entries)
		d.entries, d.live = d.entries[:0], 0
		return &response{}, nil
	case "keys", "values", "items":
		out := make([][]byte, 0, d.live*(1+boolIntN(method == "items")))
		for _, e := range d.entries {
			switch {
			case e.gone:
			case method == "keys":
				out = append(out, []byte(e.key))
			case method == "values":
				out = append(out, e.val)
			default:
				out = append(out, []byte(e.key), e.val)
			}
		}
		c.returned(out...)
		return &response{vals: out}, nil
	case "add":
		if err := want(2); err != nil {
			return nil, err
		}
		if len(ints) != 2 {
			return nil, badCall(typeDict, method)
		}
		var old []byte
		i, ok := d.lookup(vals[0])
		if ok {
			old = d.entries[i].val
		}
		sum, err := addNumbers(old, vals[1], ints[0], ints[1])
		if err != nil {
			return nil, err
		}
		d.set(c, vals[0], sum)
		return &response{vals: [][]byte{sum}}, nil
	case "modify":
		if err := want(2); err != nil || !isValue(vals[0]) {
			return nil, badCall(typeDict, method)
		}
		var old []byte
		if i, ok := d.lookup(vals[0]); ok {
			old = d.entries[i].val
		}
		v, err := applyFunc(string(vals[1]), old)
		if err != nil {
			return nil, err
		}
		d.set(c, vals[0], v)
		c.returned(v)
		return &response{vals: [][]byte{v}}, nil
	}
	return nil, unknownMethod(typeDict, method)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func boolIntN(b bool) int { return int(boolInt(b)) }
