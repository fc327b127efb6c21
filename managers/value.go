package managers

import (
	"bytes"
	"context"
	"fmt"
	"sync"
)

// Value is a proxy of a value that a manager's server holds: Python's
// manager.Value(typecode, value), of any type that crosses as values do.
// Load and Store are Python's get and set (its .value); Swap,
// CompareAndSwap and Add are atomic read-modify-writes in the server. A
// Value is safe for concurrent use and crosses into other processes as a
// Dict does. For numbers between the processes of one host, mp's shared
// Value is far faster; this one is reachable from anywhere the manager
// is.
type Value[T any] struct{ r *ref }

// NewValue creates a value in m's server, set to v, and returns its proxy.
func NewValue[T any](m *Manager, v T, opts ...CreateOption) (*Value[T], error) {
	b, err := encode(v)
	if err != nil {
		return nil, err
	}
	r, err := create(m, typeValue, createName(opts), nil, b)
	if err != nil {
		return nil, err
	}
	return &Value[T]{r}, nil
}

// Load returns the value.
func (v *Value[T]) Load() (T, error) { return v.one("load", nil) }

// Store sets the value.
func (v *Value[T]) Store(x T) error {
	b, err := encode(x)
	if err != nil {
		return err
	}
	_, err = v.r.call("store", nil, b)
	return err
}

// Swap sets the value and returns the old one.
func (v *Value[T]) Swap(x T) (T, error) {
	var zero T
	b, err := encode(x)
	if err != nil {
		return zero, err
	}
	return v.one("swap", nil, b)
}

// CompareAndSwap sets the value to new if it is old, comparing encodings
// (a value that holds a map may not equal itself), and reports whether it
// did.
func (v *Value[T]) CompareAndSwap(old, new T) (bool, error) {
	o, n, err := encodeKey(old, new)
	if err != nil {
		return false, err
	}
	resp, err := v.r.call("cas", nil, o, n)
	if err != nil {
		return false, err
	}
	k, err := oneInt(resp)
	return k == 1, err
}

// Add adds delta to the value, which must be a number (T an integer or
// floating-point type), and returns the sum; integers wrap around as Go's
// do. A T that is not a number is an error wrapping ErrNotNumber.
func (v *Value[T]) Add(delta T) (T, error) {
	var zero T
	kind, bits, ok := numberKind[T]()
	if !ok {
		return zero, fmt.Errorf("%w: Add on a Value of %T", ErrNotNumber, zero)
	}
	b, err := encode(delta)
	if err != nil {
		return zero, err
	}
	return v.one("add", []int64{kind, bits}, b)
}

func (v *Value[T]) one(method string, ints []int64, vals ...[]byte) (T, error) {
	return callOne[T](context.Background(), v.r, method, ints, vals...)
}

// Close lets go of the value; see Dict.Close.
func (v *Value[T]) Close() error { return v.r.close() }

// String describes the proxy, as Python's repr of a proxy does.
func (v *Value[T]) String() string { return v.r.String() }

// MarshalBinary encodes the proxy, so that it crosses into another
// process.
func (v *Value[T]) MarshalBinary() ([]byte, error) { return v.r.marshal() }

// UnmarshalBinary is MarshalBinary's inverse.
func (v *Value[T]) UnmarshalBinary(b []byte) error {
	r, err := unmarshalRef(b, typeValue)
	if err != nil {
		return err
	}
	v.r = r
	return nil
}

// valueObject is a value in the server.
type valueObject struct {
	mu sync.Mutex
	v  []byte
}

func newValueObject(ints []int64, vals [][]byte) (object, error) {
	if len(ints) != 0 || len(vals) != 1 || !isValue(vals[0]) {
		return nil, badCall(typeValue, "create")
	}
	return &valueObject{v: keep(vals[0])}, nil
}

func (v *valueObject) call(c *call, method string, ints []int64, vals [][]byte) (*response, error) {
	if err := checkValues(typeValue, method, vals); err != nil {
		return nil, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	switch {
	case method == "load" && len(vals) == 0:
		c.returned(v.v)
		return &response{vals: [][]byte{v.v}}, nil
	case method == "store" && len(vals) == 1:
		c.stored(vals[0])
		c.dropped(v.v)
		v.v = keep(vals[0])
		return &response{}, nil
	case method == "swap" && len(vals) == 1:
		old := v.v
		c.stored(vals[0])
		c.returned(old)
		c.dropped(old)
		v.v = keep(vals[0])
		return &response{vals: [][]byte{old}}, nil
	case method == "cas" && len(vals) == 2:
		if !bytes.Equal(v.v, vals[0]) {
			return &response{ints: []int64{0}}, nil
		}
		c.stored(vals[1])
		c.dropped(v.v)
		v.v = keep(vals[1])
		return &response{ints: []int64{1}}, nil
	case method == "add" && len(vals) == 1 && len(ints) == 2:
		sum, err := addNumbers(v.v, vals[0], ints[0], ints[1])
		if err != nil {
			return nil, err
		}
		v.v = sum
		return &response{vals: [][]byte{sum}}, nil
	}
	return nil, badCall(typeValue, method)
}

func (v *valueObject) contents() [][]byte {
	v.mu.Lock()
	defer v.mu.Unlock()
	return [][]byte{v.v}
}
