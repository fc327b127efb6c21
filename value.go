package mp

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/go-mp/mp/internal/handles"
	"github.com/go-mp/mp/internal/shm"
	"github.com/go-mp/mp/internal/wire"
)

// A Value's or Array's numbers live in a segment of their own, as a Lock
// does (syncobj.go, kinds kindValue and kindArray), after the header,
// whose spare words hold what a child checks before it uses them:
//
//	24  element code  uint32  elemCode
//	32  length        uint64  1 for a Value
const (
	dataCodeOff = 24
	dataLenOff  = 32
)

// newData creates the segment of n numbers of type T, set to init (zeros
// past its end).
func newData[T Number](kind syncKind, n int, init []T) (*syncObj, []T, error) {
	var zero T
	size := unsafe.Sizeof(zero)
	if n < 0 || uint64(n) > (shm.MaxSize-syncObjOff)/uint64(size) {
		return nil, nil, fmt.Errorf("%w: %d numbers of type %s", ErrBadSize, n, elemName[T]())
	}
	o, err := newSizedObj(kind, syncObjOff+n*int(size), nil, noCore)
	if err != nil {
		return nil, nil, err
	}
	hdr := o.seg.Bytes()
	binary.LittleEndian.PutUint32(hdr[dataCodeOff:], elemCode[T]())
	binary.LittleEndian.PutUint64(hdr[dataLenOff:], uint64(n))
	s := elems[T](o, n)
	copy(s, init) // no other process has the memory yet
	return o, s, nil
}

func noCore(*syncObj) any { return nil }

// elems returns the numbers of o.
func elems[T Number](o *syncObj, n int) []T {
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(o.mem))), n)
}

// A Value's or Array's encoding is its segment's (writeSyncObj) and size;
// with a lock, the lock's kind and identity follow, and the Set is one of
// both segments' files.

// marshalData returns the encoding of a Value's or Array's numbers, o,
// that set passes, and of their lock, lock, if there is one.
func marshalData(o *syncObj, set *handles.Set, lock SharedLock) []byte {
	w := &wire.Writer{}
	writeSyncObj(w, o, set)
	w.Uint(uint64(o.seg.Size()))
	if lock != nil {
		lo := lock.lockCore().obj
		w.Byte(byte(lo.kind))
		w.Raw(lo.id[:])
	}
	return w.B
}

// lockedSet returns a Set of the files of a Value's or Array's numbers, o,
// and of their lock.
func lockedSet(o *syncObj, lock SharedLock) *handles.Set {
	lo := lock.lockCore().obj
	if lo.closed.Load() {
		panic("mp: a closed lock cannot guard a Value or Array")
	}
	return handles.New(o.seg.File(), lo.seg.File())
}

// dataSet returns the Set that passes a Value or Array (o, and lock if it
// has one), or why it cannot be passed.
func dataSet(o *syncObj, set *handles.Set, lock SharedLock) (*handles.Set, error) {
	if lock != nil {
		if _, err := lock.lockCore().obj.passSet(); err != nil {
			return nil, err
		}
	}
	if _, err := o.passSet(); err != nil {
		return nil, err
	}
	if set == nil {
		return o.pass, nil
	}
	return set, nil
}

// unmarshalData decodes a Value or Array of T (kind) that marshalData
// encoded, with its lock if locked, and returns this process's hold on
// them, checking their headers. set is the Set that passes both, when
// locked. It fails with ErrNotPassable in a process that holds neither the
// numbers nor the Set.
func unmarshalData[T Number](b []byte, kind syncKind, locked bool) (o *syncObj, s []T, lock SharedLock, set *handles.Set, err error) {
	d := wire.NewReader(b)
	id, setID, err := readSyncHead(d, kind)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	size := d.Uint()
	if d.Err == nil && (size < syncObjOff || size > shm.MaxSize) {
		d.Fail("size of a " + kind.String())
	}
	var lockKind syncKind
	var lockID [16]byte
	if locked {
		lockKind = syncKind(d.Byte())
		copy(lockID[:], d.Raw(16))
	}
	if err := d.End(); err != nil {
		return nil, nil, nil, nil, err
	}
	if locked && lockKind != kindLock && lockKind != kindRLock {
		return nil, nil, nil, nil, fmt.Errorf("%w: a %s's lock is a %s", ErrBadMessage, kind, lockKind)
	}
	syncObjs.Lock()
	defer syncObjs.Unlock()
	o = findSyncObj(id, kind)
	if o != nil && o.seg.Size() != int(size) {
		return nil, nil, nil, nil, fmt.Errorf("%w: a %s of another size", ErrBadMessage, kind)
	}
	var lo *syncObj
	if locked {
		lo = findSyncObj(lockID, lockKind)
	}
	if o == nil || locked && lo == nil {
		n := 1
		if locked {
			n = 2
		}
		if set, err = heldSet(setID, n, kind.String()); err != nil {
			return nil, nil, nil, nil, err
		}
	}
	if o == nil {
		pass := set
		if locked {
			pass = handles.New(set.Files[0]) // for passing the numbers alone
		}
		if o, err = attachSizedObj(id, kind, int(size), set.Files[0], pass, noCore); err != nil {
			return nil, nil, nil, nil, err
		}
	}
	hdr := o.seg.Bytes()
	code := binary.LittleEndian.Uint32(hdr[dataCodeOff:])
	n := binary.LittleEndian.Uint64(hdr[dataLenOff:])
	if want := elemCode[T](); code != want {
		return nil, nil, nil, nil, fmt.Errorf("%w: a %s of %s where one of %s was expected", ErrBadMessage, kind, codeName(code), elemName[T]())
	}
	var zero T
	if n > uint64(len(o.mem))/uint64(unsafe.Sizeof(zero)) || kind == kindValue && n != 1 {
		return nil, nil, nil, nil, fmt.Errorf("%w: a %s's shared memory does not hold its numbers", ErrBadMessage, kind)
	}
	if !locked {
		return o, elems[T](o, int(n)), nil, nil, nil
	}
	if lo == nil {
		lo, err = attachSyncObj(lockID, lockKind, set.Files[1], handles.New(set.Files[1]), newLockCore(lockKind == kindRLock))
		if err != nil {
			return nil, nil, nil, nil, err
		}
	}
	lock = &Lock{c: lo.core.(*lockCore)}
	if lockKind == kindRLock {
		lock = &RLock{c: lo.core.(*lockCore)}
	}
	if set == nil {
		set = lockedSet(o, lock)
	}
	return o, elems[T](o, int(n)), lock, set, nil
}

// RawValue is a number in shared memory, like Python's
// multiprocessing.RawValue: a process that creates one and passes it to
// its children shares the number with them, with no copy. T is one of the
// fixed-size number types (see Number for Python's typecodes).
//
// Load, Store, Add and CompareAndSwap are atomic, in every process: no
// lock is needed for a counter that many processes add to. For updates
// that read and write more than one number, take a lock: a Value is a
// RawValue with one (Python's Value, whose get_lock is GetLock).
//
// A RawValue is given to a child as an argument of a Process or a field
// of a Runner, under either start method, and can be passed on from
// there. Sent any other way (on a Conn or a Queue), it decodes only in a
// process that holds it, as the same value; elsewhere decoding fails with
// ErrNotPassable. A process has one mapping of it however often it was
// passed. The zero RawValue is not usable: create one with NewRawValue.
type RawValue[T Number] struct {
	o *syncObj
	p *T
}

// NewRawValue returns a new RawValue holding v.
func NewRawValue[T Number](v T) (*RawValue[T], error) {
	o, s, err := newData(kindValue, 1, []T{v})
	if err != nil {
		return nil, err
	}
	return &RawValue[T]{o: o, p: &s[0]}, nil
}

// ptr returns the number's address, or panics on a zero or closed value.
func (v *RawValue[T]) ptr() *T {
	if v == nil || v.o == nil {
		panic("mp: use of a zero Value: create it with NewValue or NewRawValue")
	}
	if v.o.closed.Load() {
		panic("mp: use of a closed Value")
	}
	return v.p
}

// Load returns the number.
func (v *RawValue[T]) Load() T {
	defer runtime.KeepAlive(v)
	return atomicLoad(v.ptr())
}

// Store sets the number to x.
func (v *RawValue[T]) Store(x T) {
	defer runtime.KeepAlive(v)
	atomicStore(v.ptr(), x)
}

// Add adds delta to the number, atomically, and returns the sum. Integers
// wrap around, as Go's do.
func (v *RawValue[T]) Add(delta T) T {
	defer runtime.KeepAlive(v)
	return atomicAdd(v.ptr(), delta)
}

// CompareAndSwap sets the number to new if it is old, atomically, and
// reports whether it did. Floats are compared by their bits: a NaN matches
// the same NaN, and -0 does not match +0.
func (v *RawValue[T]) CompareAndSwap(old, new T) bool {
	defer runtime.KeepAlive(v)
	return atomicCAS(v.ptr(), old, new)
}

// WithLock returns a Value that is v guarded by l (Python's
// sharedctypes.synchronized): several Values and Arrays can share one
// lock. l must not be nil.
func (v *RawValue[T]) WithLock(l SharedLock) *Value[T] {
	v.ptr()
	if l == nil {
		panic("mp: WithLock of a nil lock")
	}
	return &Value[T]{RawValue: v, lock: l, pass: lockedSet(v.o, l)}
}

// Close releases this process's mapping of the number: every later use in
// this process panics. Other processes keep theirs; the memory goes with
// the last of them. Close must not run while another goroutine uses the
// value. A second Close returns nil.
func (v *RawValue[T]) Close() error {
	if v == nil || v.o == nil {
		panic("mp: use of a zero Value: create it with NewValue or NewRawValue")
	}
	return v.o.Close()
}

// passSet returns the Set of v's segment, for Start to pass to a child.
func (v *RawValue[T]) passSet() (*handles.Set, error) {
	if v == nil || v.o == nil {
		return nil, fmt.Errorf("%w: a zero Value", ErrBadMessage)
	}
	return dataSet(v.o, nil, nil)
}

// MarshalBinary encodes v for Start, which carries it into a child, or
// for Send and Put: the encoding decodes only in a process that holds v
// (ErrNotPassable elsewhere), as the same value.
func (v *RawValue[T]) MarshalBinary() ([]byte, error) {
	set, err := v.passSet()
	if err != nil {
		return nil, err
	}
	return marshalData(v.o, set, nil), nil
}

// UnmarshalBinary is MarshalBinary's inverse.
func (v *RawValue[T]) UnmarshalBinary(b []byte) error {
	o, s, _, _, err := unmarshalData[T](b, kindValue, false)
	if err != nil {
		return err
	}
	v.o, v.p = o, &s[0]
	return nil
}

// Value is a number in shared memory guarded by a lock, like Python's
// multiprocessing.Value: a RawValue (Python's get_obj) and the lock that
// GetLock returns.
//
// Unlike the properties of Python's synchronized wrappers, Load and Store
// do not take the lock: they and Add and CompareAndSwap are atomic by
// themselves. The lock is for what reads and writes more than once, as
// Python's
//
//	with v.get_lock():
//		v.value = f(v.value)
//
// is in Go
//
//	l := v.GetLock()
//	l.Lock()
//	v.Store(f(v.Load()))
//	l.Unlock()
//
// which excludes others that take the lock, not a plain Store elsewhere.
// (The update above is better written with CompareAndSwap, or Add.)
//
// A Value crosses into children as a RawValue does, with its lock. The
// zero Value is not usable: create one with NewValue, or with a
// RawValue's WithLock.
type Value[T Number] struct {
	*RawValue[T]
	lock SharedLock
	pass *handles.Set // the number's and the lock's files, for Start
}

// NewValue returns a new Value holding v, with a new RLock (Python's
// default).
func NewValue[T Number](v T) (*Value[T], error) {
	raw, err := NewRawValue(v)
	if err != nil {
		return nil, err
	}
	l, err := NewRLock()
	if err != nil {
		raw.Close()
		return nil, err
	}
	return &Value[T]{RawValue: raw, lock: l, pass: lockedSet(raw.o, l)}, nil
}

// GetLock returns the lock that guards v: the RLock that NewValue made, or
// the lock given to WithLock.
func (v *Value[T]) GetLock() SharedLock {
	if v == nil || v.lock == nil {
		panic("mp: use of a zero Value: create it with NewValue")
	}
	return v.lock
}

// Close releases this process's mapping of the number; see
// RawValue.Close. The lock is left alone: it may guard other values, or be
// used by itself. Close it with its own Close, or leave it to the garbage
// collector.
func (v *Value[T]) Close() error { return v.RawValue.Close() }

// passSet returns the Set of v's segment and its lock's, for Start to
// pass to a child.
func (v *Value[T]) passSet() (*handles.Set, error) {
	if v == nil || v.RawValue == nil || v.o == nil || v.lock == nil {
		return nil, fmt.Errorf("%w: a zero Value", ErrBadMessage)
	}
	return dataSet(v.o, v.pass, v.lock)
}

// MarshalBinary encodes v, with its lock, as RawValue.MarshalBinary does.
func (v *Value[T]) MarshalBinary() ([]byte, error) {
	set, err := v.passSet()
	if err != nil {
		return nil, err
	}
	return marshalData(v.o, set, v.lock), nil
}

// UnmarshalBinary is MarshalBinary's inverse.
func (v *Value[T]) UnmarshalBinary(b []byte) error {
	o, s, l, set, err := unmarshalData[T](b, kindValue, true)
	if err != nil {
		return err
	}
	v.RawValue, v.lock, v.pass = &RawValue[T]{o: o, p: &s[0]}, l, set
	return nil
}
