package managers

import (
	"bytes"
	"context"
	"math"
	"slices"
	"sync"
)

// List is a proxy of a list that a manager's server holds: Python's
// ListProxy, typed. An index i < 0 counts from the end, as in Python, and
// an index outside the list is an error wrapping ErrIndex (Python's
// IndexError). Values are compared by their encodings (Remove, Index,
// Count), so a value that holds a map may not equal itself.
//
// Each method is one round trip, and atomic. A List is safe for
// concurrent use and crosses into other processes as a Dict does; use it
// through its pointer.
type List[T any] struct{ r *ref }

// NewList creates an empty list in m's server and returns its proxy:
// Python's manager.list().
func NewList[T any](m *Manager, opts ...CreateOption) (*List[T], error) {
	r, err := create(m, typeList, createName(opts), nil)
	if err != nil {
		return nil, err
	}
	return &List[T]{r}, nil
}

// Append appends v.
func (l *List[T]) Append(v T) error { return l.Extend(v) }

// Extend appends vs, in one atomic step.
func (l *List[T]) Extend(vs ...T) error {
	vals := make([][]byte, len(vs))
	for i, v := range vs {
		b, err := encode(v)
		if err != nil {
			return err
		}
		vals[i] = b
	}
	_, err := l.r.call("extend", nil, vals...)
	return err
}

// Get returns the element at index i: l[i].
func (l *List[T]) Get(i int) (T, error) { return l.one("get", []int64{int64(i)}) }

// Set sets the element at index i: l[i] = v.
func (l *List[T]) Set(i int, v T) error {
	b, err := encode(v)
	if err != nil {
		return err
	}
	_, err = l.r.call("set", []int64{int64(i)}, b)
	return err
}

// Insert inserts v before index i; an i beyond either end inserts at that
// end, as Python's insert does.
func (l *List[T]) Insert(i int, v T) error {
	b, err := encode(v)
	if err != nil {
		return err
	}
	_, err = l.r.call("insert", []int64{int64(i)}, b)
	return err
}

// Pop removes the element at index i and returns it; Pop(-1) is Python's
// pop().
func (l *List[T]) Pop(i int) (T, error) { return l.one("pop", []int64{int64(i)}) }

func (l *List[T]) one(method string, ints []int64) (T, error) {
	return callOne[T](context.Background(), l.r, method, ints)
}

// Len returns the length of the list: len(l).
func (l *List[T]) Len() (int, error) {
	resp, err := l.r.call("len", nil)
	if err != nil {
		return 0, err
	}
	n, err := oneInt(resp)
	return int(n), err
}

// Slice returns the elements from index lo up to hi: Python's l[lo:hi],
// with its rules (indices below zero count from the end; indices beyond
// the ends are clamped, never an error).
func (l *List[T]) Slice(lo, hi int) ([]T, error) {
	resp, err := l.r.call("slice", []int64{int64(lo), int64(hi)})
	if err != nil {
		return nil, err
	}
	return decodeAll[T](resp.vals)
}

// All returns every element: Python's l[:].
func (l *List[T]) All() ([]T, error) { return l.Slice(0, math.MaxInt) }

// Remove removes the first element equal to v. A v the list lacks is an
// error wrapping ErrIndex (Python's ValueError).
func (l *List[T]) Remove(v T) error {
	b, err := encode(v)
	if err != nil {
		return err
	}
	_, err = l.r.call("remove", nil, b)
	return err
}

// Index returns the index of the first element equal to v. A v the list
// lacks is an error wrapping ErrIndex (Python's ValueError).
func (l *List[T]) Index(v T) (int, error) { return l.count("index", v) }

// Count returns how many elements equal v.
func (l *List[T]) Count(v T) (int, error) { return l.count("count", v) }

func (l *List[T]) count(method string, v T) (int, error) {
	b, err := encode(v)
	if err != nil {
		return 0, err
	}
	resp, err := l.r.call(method, nil, b)
	if err != nil {
		return 0, err
	}
	n, err := oneInt(resp)
	return int(n), err
}

// Reverse reverses the list in place.
func (l *List[T]) Reverse() error {
	_, err := l.r.call("reverse", nil)
	return err
}

// Clear removes every element.
func (l *List[T]) Clear() error {
	_, err := l.r.call("clear", nil)
	return err
}

// Close lets go of the list; see Dict.Close.
func (l *List[T]) Close() error { return l.r.close() }

// String describes the proxy, as Python's repr of a proxy does.
func (l *List[T]) String() string { return l.r.String() }

// MarshalBinary encodes the proxy, so that it crosses into another
// process.
func (l *List[T]) MarshalBinary() ([]byte, error) { return l.r.marshal() }

// UnmarshalBinary is MarshalBinary's inverse.
func (l *List[T]) UnmarshalBinary(b []byte) error {
	r, err := unmarshalRef(b, typeList)
	if err != nil {
		return err
	}
	l.r = r
	return nil
}

// listObject is a list in the server: encoded values.
type listObject struct {
	mu    sync.Mutex
	items [][]byte
}

func newListObject(ints []int64, vals [][]byte) (object, error) {
	if len(ints) != 0 || len(vals) != 0 {
		return nil, badCall(typeList, "create")
	}
	return &listObject{}, nil
}

func (l *listObject) contents() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.items)
}

// index checks an index, counting from the end if negative.
func (l *listObject) index(i int64) (int, error) {
	n := int64(len(l.items))
	if i < 0 {
		i += n
	}
	if i < 0 || i >= n {
		return 0, errorf(ErrIndex, "list index out of range")
	}
	return int(i), nil
}

// clamp is Python's rule for a slice bound.
func clamp(i int64, n int) int {
	if i < 0 {
		i += int64(n)
	}
	return int(min(max(i, 0), int64(n)))
}

func (l *listObject) find(v []byte) int {
	return slices.IndexFunc(l.items, func(x []byte) bool { return bytes.Equal(x, v) })
}

func (l *listObject) call(c *call, method string, ints []int64, vals [][]byte) (*response, error) {
	if err := checkValues(typeList, method, vals); err != nil {
		return nil, err
	}
	want := func(ni, nv int) error {
		if len(ints) != ni || len(vals) != nv {
			return badCall(typeList, method)
		}
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch method {
	case "extend":
		for _, v := range vals {
			c.stored(v)
			l.items = append(l.items, keep(v))
		}
		return &response{}, nil
	case "get", "pop":
		if err := want(1, 0); err != nil {
			return nil, err
		}
		i, err := l.index(ints[0])
		if err != nil {
			return nil, err
		}
		v := l.items[i]
		c.returned(v)
		if method == "pop" {
			c.dropped(v)
			l.items = slices.Delete(l.items, i, i+1)
		}
		return &response{vals: [][]byte{v}}, nil
	case "set":
		if err := want(1, 1); err != nil {
			return nil, err
		}
		i, err := l.index(ints[0])
		if err != nil {
			return nil, err
		}
		c.stored(vals[0])
		c.dropped(l.items[i])
		l.items[i] = keep(vals[0])
		return &response{}, nil
	case "insert":
		if err := want(1, 1); err != nil {
			return nil, err
		}
		i := clamp(ints[0], len(l.items))
		c.stored(vals[0])
		l.items = slices.Insert(l.items, i, keep(vals[0]))
		return &response{}, nil
	case "len":
		return &response{ints: []int64{int64(len(l.items))}}, nil
	case "slice":
		if err := want(2, 0); err != nil {
			return nil, err
		}
		lo, hi := clamp(ints[0], len(l.items)), clamp(ints[1], len(l.items))
		if lo >= hi {
			return &response{}, nil
		}
		out := slices.Clone(l.items[lo:hi])
		c.returned(out...)
		return &response{vals: out}, nil
	case "remove", "index":
		if err := want(0, 1); err != nil {
			return nil, err
		}
		i := l.find(vals[0])
		if i < 0 {
			return nil, errorf(ErrIndex, "list.%s(x): x not in list", method)
		}
		if method == "remove" {
			c.dropped(l.items[i])
			l.items = slices.Delete(l.items, i, i+1)
			return &response{}, nil
		}
		return &response{ints: []int64{int64(i)}}, nil
	case "count":
		if err := want(0, 1); err != nil {
			return nil, err
		}
		n := 0
		for _, x := range l.items {
			if bytes.Equal(x, vals[0]) {
				n++
			}
		}
		return &response{ints: []int64{int64(n)}}, nil
	case "reverse":
		slices.Reverse(l.items)
		return &response{}, nil
	case "clear":
		c.dropped(l.items...)
		clear(l.items)
		l.items = l.items[:0]
		return &response{}, nil
	}
	return nil, unknownMethod(typeList, method)
}
