package mp

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"sync/atomic"
	"unsafe"
)

// Number is the constraint of the element types of Value, RawValue, Array
// and RawArray: the integer and floating-point types of a fixed size, and
// types defined on them. Python's typecodes map to them as follows (C's
// sizes on 64-bit Linux and macOS; Windows' long and unsigned long are 32
// bits, int32 and uint32):
//
//	typecode  C type              Go type
//	'b'       signed char         int8
//	'B'       unsigned char       uint8 (byte)
//	'c'       char                uint8 (byte): a byte, not a string of one
//	'h'       short               int16
//	'H'       unsigned short      uint16
//	'i'       int                 int32
//	'I'       unsigned int        uint32
//	'l'       long                int64
//	'L'       unsigned long       uint64
//	'q'       long long           int64
//	'Q'       unsigned long long  uint64
//	'f'       float               float32
//	'd'       double              float64
//	          (Go's own)          int, uint: 64 bits on 64-bit platforms
//
// Python's 'u' (wchar_t) has no counterpart: use int32 for code points.
type Number interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~int |
		~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uint |
		~float32 | ~float64
}

// elemCode identifies T in shared memory, so that a child checks that it
// maps a Value or Array of the type it expects: the kind and the size.
func elemCode[T Number]() uint32 {
	var zero T
	return uint32(reflect.TypeFor[T]().Kind()) | uint32(unsafe.Sizeof(zero))<<8
}

// elemName names T for errors.
func elemName[T Number]() string { return reflect.TypeFor[T]().String() }

// codeName names an element code for errors.
func codeName(c uint32) string {
	return fmt.Sprintf("%v (%d bytes)", reflect.Kind(c&0xff), c>>8)
}

// The elements of a Value or Array are read and written with atomic
// operations, all of them, so that they are well defined whatever other
// processes do at the same time. Go has atomic operations on 32- and
// 64-bit words; an 8- or 16-bit element is read and written through the
// aligned 32-bit word that holds it, with compare-and-swap, so that its
// neighbours are never overwritten. Floats are added by compare-and-swap
// on their bits, and compared by their bits (so a NaN equals itself, and
// -0 differs from +0).

// bigEndian tells where in its word a small element lies.
var bigEndian = binary.NativeEndian.Uint16([]byte{1, 0}) != 1

// word returns the aligned 32-bit word that holds the element at p (of
// size 1 or 2), its shift in the word and its mask.
func word[T Number](p *T) (w *uint32, shift uint, mask uint32) {
	size := unsafe.Sizeof(*p)
	off := uintptr(unsafe.Pointer(p)) & 3
	w = (*uint32)(unsafe.Add(unsafe.Pointer(p), -int(off)))
	if bigEndian {
		off = 4 - size - off
	}
	return w, uint(off) * 8, uint32(1)<<(size*8) - 1
}

// bitsOf returns v's bits, zero-extended.
func bitsOf[T Number](v T) uint64 {
	switch unsafe.Sizeof(v) {
	case 8:
		return *(*uint64)(unsafe.Pointer(&v))
	case 4:
		return uint64(*(*uint32)(unsafe.Pointer(&v)))
	case 2:
		return uint64(*(*uint16)(unsafe.Pointer(&v)))
	}
	return uint64(*(*uint8)(unsafe.Pointer(&v)))
}

// fromBits is bitsOf's inverse.
func fromBits[T Number](u uint64) T {
	var v T
	switch unsafe.Sizeof(v) {
	case 8:
		*(*uint64)(unsafe.Pointer(&v)) = u
	case 4:
		*(*uint32)(unsafe.Pointer(&v)) = uint32(u)
	case 2:
		*(*uint16)(unsafe.Pointer(&v)) = uint16(u)
	default:
		*(*uint8)(unsafe.Pointer(&v)) = uint8(u)
	}
	return v
}

// isFloat reports whether T is a floating-point type.
func isFloat[T Number]() bool {
	var x T = 1
	x /= 2
	return x != 0
}

func atomicLoad[T Number](p *T) T {
	switch unsafe.Sizeof(*p) {
	case 8:
		return fromBits[T](atomic.LoadUint64((*uint64)(unsafe.Pointer(p))))
	case 4:
		return fromBits[T](uint64(atomic.LoadUint32((*uint32)(unsafe.Pointer(p)))))
	}
	w, shift, mask := word(p)
	return fromBits[T](uint64(atomic.LoadUint32(w) >> shift & mask))
}

func atomicStore[T Number](p *T, v T) {
	switch unsafe.Sizeof(*p) {
	case 8:
		atomic.StoreUint64((*uint64)(unsafe.Pointer(p)), bitsOf(v))
		return
	case 4:
		atomic.StoreUint32((*uint32)(unsafe.Pointer(p)), uint32(bitsOf(v)))
		return
	}
	w, shift, mask := word(p)
	for {
		old := atomic.LoadUint32(w)
		if atomic.CompareAndSwapUint32(w, old, old&^(mask<<shift)|uint32(bitsOf(v))<<shift) {
			return
		}
	}
}

func atomicCAS[T Number](p *T, old, new T) bool {
	switch unsafe.Sizeof(*p) {
	case 8:
		return atomic.CompareAndSwapUint64((*uint64)(unsafe.Pointer(p)), bitsOf(old), bitsOf(new))
	case 4:
		return atomic.CompareAndSwapUint32((*uint32)(unsafe.Pointer(p)), uint32(bitsOf(old)), uint32(bitsOf(new)))
	}
	w, shift, mask := word(p)
	o, n := uint32(bitsOf(old)), uint32(bitsOf(new))
	for {
		cur := atomic.LoadUint32(w)
		if cur>>shift&mask != o {
			return false
		}
		// A failed swap here means a neighbour changed, or the element
		// did: look again.
		if atomic.CompareAndSwapUint32(w, cur, cur&^(mask<<shift)|n<<shift) {
			return true
		}
	}
}

func atomicAdd[T Number](p *T, delta T) T {
	if !isFloat[T]() {
		// Two's complement: adding the bits adds signed and unsigned
		// numbers alike.
		switch unsafe.Sizeof(*p) {
		case 8:
			return fromBits[T](atomic.AddUint64((*uint64)(unsafe.Pointer(p)), bitsOf(delta)))
		case 4:
			return fromBits[T](uint64(atomic.AddUint32((*uint32)(unsafe.Pointer(p)), uint32(bitsOf(delta)))))
		}
	}
	for {
		old := atomicLoad(p)
		if n := old + delta; atomicCAS(p, old, n) {
			return n
		}
	}
}
