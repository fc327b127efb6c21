package mp

import (
	"fmt"
	"runtime"

	"github.com/go-mp/mp/internal/handles"
)

// RawArray is a fixed-length array of numbers in shared memory, like
// Python's multiprocessing.RawArray: a process that creates one and passes
// it to its children shares the numbers with them, with no copy. T is one
// of the fixed-size number types (see Number for Python's typecodes). A
// new array holds zeros.
//
// Load, Store, Add and CompareAndSwap of an element are atomic, in every
// process. For bulk work, Slice returns the elements as a Go slice: its
// reads and writes are plain memory accesses, fast and not atomic, so
// processes that write elements must keep others from reading or writing
// them at the same time (with a lock, an Array's, or by giving each
// process elements of its own, or by Barrier and Join), as goroutines
// must for a slice.
//
// A RawArray crosses into children as a RawValue does (as an argument or a
// Runner field, under either start method). The zero RawArray is not
// usable: create one with NewRawArray or NewRawArrayFrom.
type RawArray[T Number] struct {
	o *syncObj
	s []T
}

// NewRawArray returns a new RawArray of n zeros. n may be 0.
func NewRawArray[T Number](n int) (*RawArray[T], error) {
	o, s, err := newData[T](kindArray, n, nil)
	if err != nil {
		return nil, err
	}
	return &RawArray[T]{o: o, s: s}, nil
}

// NewRawArrayFrom returns a new RawArray holding a copy of values.
func NewRawArrayFrom[T Number](values []T) (*RawArray[T], error) {
	o, s, err := newData(kindArray, len(values), values)
	if err != nil {
		return nil, err
	}
	return &RawArray[T]{o: o, s: s}, nil
}

// elems returns the elements, or panics on a zero or closed array.
func (a *RawArray[T]) elems() []T {
	if a == nil || a.o == nil {
		panic("mp: use of a zero Array: create it with NewArray or NewRawArray")
	}
	if a.o.closed.Load() {
		panic("mp: use of a closed Array")
	}
	return a.s
}

// at returns the address of element i, or panics if i is out of range.
func (a *RawArray[T]) at(i int) *T {
	s := a.elems()
	if uint(i) >= uint(len(s)) {
		panic(fmt.Sprintf("mp: index %d out of range for an Array of length %d", i, len(s)))
	}
	return &s[i]
}

// Len returns the number of elements.
func (a *RawArray[T]) Len() int { return len(a.elems()) }

// Load returns element i. It panics if i is out of range.
func (a *RawArray[T]) Load(i int) T {
	defer runtime.KeepAlive(a)
	return atomicLoad(a.at(i))
}

// Store sets element i to x. It panics if i is out of range.
func (a *RawArray[T]) Store(i int, x T) {
	defer runtime.KeepAlive(a)
	atomicStore(a.at(i), x)
}

// Add adds delta to element i, atomically, and returns the sum; see
// RawValue.Add. It panics if i is out of range.
func (a *RawArray[T]) Add(i int, delta T) T {
	defer runtime.KeepAlive(a)
	return atomicAdd(a.at(i), delta)
}

// CompareAndSwap sets element i to new if it is old, atomically, and
// reports whether it did; see RawValue.CompareAndSwap. It panics if i is
// out of range.
func (a *RawArray[T]) CompareAndSwap(i int, old, new T) bool {
	defer runtime.KeepAlive(a)
	return atomicCAS(a.at(i), old, new)
}

// Slice returns the elements as a slice of the shared memory itself, for
// bulk reads and writes (Python's arr[:] and arr[i:j] = ...; copy into it
// or out of it, range over it, sort it). Its accesses are not atomic: see
// the type's documentation. The slice is valid until Close: using it
// after that faults. (An array that is not closed stays mapped in this
// process until it exits, even once unreachable, since a slice may still
// point into it; its file is closed.)
func (a *RawArray[T]) Slice() []T { return a.elems() }

// WithLock returns an Array that is a guarded by l (Python's
// sharedctypes.synchronized): several Values and Arrays can share one
// lock. l must not be nil.
func (a *RawArray[T]) WithLock(l SharedLock) *Array[T] {
	a.elems()
	if l == nil {
		panic("mp: WithLock of a nil lock")
	}
	return &Array[T]{RawArray: a, lock: l, pass: lockedSet(a.o, l)}
}

// Close releases this process's mapping of the array: every later use of
// a, or of a slice that Slice returned, in this process fails (the
// methods panic, the slice faults). Other processes keep theirs; the
// memory goes with the last of them. Close must not run while another
// goroutine uses the array. A second Close returns nil.
func (a *RawArray[T]) Close() error {
	if a == nil || a.o == nil {
		panic("mp: use of a zero Array: create it with NewArray or NewRawArray")
	}
	return a.o.Close()
}

// passSet returns the Set of a's segment, for Start to pass to a child.
func (a *RawArray[T]) passSet() (*handles.Set, error) {
	if a == nil || a.o == nil {
		return nil, fmt.Errorf("%w: a zero Array", ErrBadMessage)
	}
	return dataSet(a.o, nil, nil)
}

// MarshalBinary encodes a as RawValue.MarshalBinary does a value.
func (a *RawArray[T]) MarshalBinary() ([]byte, error) {
	set, err := a.passSet()
	if err != nil {
		return nil, err
	}
	return marshalData(a.o, set, nil), nil
}

// UnmarshalBinary is MarshalBinary's inverse.
func (a *RawArray[T]) UnmarshalBinary(b []byte) error {
	o, s, _, _, err := unmarshalData[T](b, kindArray, false)
	if err != nil {
		return err
	}
	a.o, a.s = o, s
	return nil
}

// Array is a fixed-length array of numbers in shared memory guarded by a
// lock, like Python's multiprocessing.Array: a RawArray (Python's get_obj)
// and the lock that GetLock returns. As with a Value, the element methods
// are atomic and do not take the lock; take it around work that must not
// interleave with other processes' (a read of several elements that must
// agree, bulk writes through Slice).
//
// An Array crosses into children as a RawArray does, with its lock. The
// zero Array is not usable: create one with NewArray, NewArrayFrom, or a
// RawArray's WithLock.
type Array[T Number] struct {
	*RawArray[T]
	lock SharedLock
	pass *handles.Set // the elements' and the lock's files, for Start
}

// NewArray returns a new Array of n zeros, with a new RLock.
func NewArray[T Number](n int) (*Array[T], error) {
	raw, err := NewRawArray[T](n)
	if err != nil {
		return nil, err
	}
	return withNewRLock(raw)
}

// NewArrayFrom returns a new Array holding a copy of values, with a new
// RLock.
func NewArrayFrom[T Number](values []T) (*Array[T], error) {
	raw, err := NewRawArrayFrom(values)
	if err != nil {
		return nil, err
	}
	return withNewRLock(raw)
}

func withNewRLock[T Number](raw *RawArray[T]) (*Array[T], error) {
	l, err := NewRLock()
	if err != nil {
		raw.Close()
		return nil, err
	}
	return &Array[T]{RawArray: raw, lock: l, pass: lockedSet(raw.o, l)}, nil
}

// GetLock returns the lock that guards a: the RLock that NewArray made, or
// the lock given to WithLock.
func (a *Array[T]) GetLock() SharedLock {
	if a == nil || a.lock == nil {
		panic("mp: use of a zero Array: create it with NewArray")
	}
	return a.lock
}

// Close releases this process's mapping of the array; see RawArray.Close.
// The lock is left alone, as a Value's is.
func (a *Array[T]) Close() error { return a.RawArray.Close() }

// passSet returns the Set of a's segment and its lock's, for Start to
// pass to a child.
func (a *Array[T]) passSet() (*handles.Set, error) {
	if a == nil || a.RawArray == nil || a.o == nil || a.lock == nil {
		return nil, fmt.Errorf("%w: a zero Array", ErrBadMessage)
	}
	return dataSet(a.o, a.pass, a.lock)
}

// MarshalBinary encodes a, with its lock, as RawValue.MarshalBinary does
// a value.
func (a *Array[T]) MarshalBinary() ([]byte, error) {
	set, err := a.passSet()
	if err != nil {
		return nil, err
	}
	return marshalData(a.o, set, a.lock), nil
}

// UnmarshalBinary is MarshalBinary's inverse.
func (a *Array[T]) UnmarshalBinary(b []byte) error {
	o, s, l, set, err := unmarshalData[T](b, kindArray, true)
	if err != nil {
		return err
	}
	a.RawArray, a.lock, a.pass = &RawArray[T]{o: o, s: s}, l, set
	return nil
}
