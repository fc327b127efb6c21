package wire

import (
	"encoding/binary"
	"math"
	"slices"

	"github.com/x448/float16"
)

// Fast paths for the bulk values programs send most ([]float64, []int,
// []int64), sent or received at the top level: cbor's reflection costs
// about 50 ns an element, these a few. They write exactly the bytes cbor
// writes, and read only what they fully understand; anything else goes
// to cbor, which then decides (FuzzValue checks both agree).

// appendHead appends a CBOR head: major type and argument, shortest form.
func appendHead(b []byte, major byte, arg uint64) []byte {
	m := major << 5
	switch {
	case arg < 24:
		return append(b, m|byte(arg))
	case arg <= math.MaxUint8:
		return append(b, m|24, byte(arg))
	case arg <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, m|25), uint16(arg))
	case arg <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(arg))
	}
	return binary.BigEndian.AppendUint64(append(b, m|27), arg)
}

func appendInt(b []byte, n int64) []byte {
	if n >= 0 {
		return appendHead(b, majUint, uint64(n))
	}
	return appendHead(b, majNeg, uint64(-1-n))
}

// encodeFast appends the value message for v if v is of a type with a
// fast path.
func encodeFast(dst []byte, v any) ([]byte, bool) {
	switch s := v.(type) {
	case []float64:
		if s == nil {
			return append(dst, Marker, 0xf6), true
		}
		dst = appendHead(append(slices.Grow(dst, 10+9*len(s)), Marker), majArray, uint64(len(s)))
		for _, f := range s {
			dst = binary.BigEndian.AppendUint64(append(dst, 0xfb), math.Float64bits(f))
		}
		return dst, true
	case []int:
		if s == nil {
			return append(dst, Marker, 0xf6), true
		}
		dst = appendHead(append(slices.Grow(dst, 10+9*len(s)), Marker), majArray, uint64(len(s)))
		for _, n := range s {
			dst = appendInt(dst, int64(n))
		}
		return dst, true
	case []int64:
		if s == nil {
			return append(dst, Marker, 0xf6), true
		}
		dst = appendHead(append(slices.Grow(dst, 10+9*len(s)), Marker), majArray, uint64(len(s)))
		for _, n := range s {
			dst = appendInt(dst, n)
		}
		return dst, true
	}
	return dst, false
}

// fastReader reads CBOR heads for the fast paths.
type fastReader struct {
	b   []byte
	pos int // an index, not a reslice: no write barrier per read
	ok  bool
}

func (r *fastReader) rest() int { return len(r.b) - r.pos }

func (r *fastReader) head() (major, info byte, arg uint64) {
	if !r.ok || r.pos >= len(r.b) {
		r.ok = false
		return
	}
	c := r.b[r.pos]
	major, info = c>>5, c&31
	n := 0
	switch {
	case info < 24:
		arg = uint64(info)
	case info == 24:
		n = 1
	case info == 25:
		n = 2
	case info == 26:
		n = 4
	case info == 27:
		n = 8
	default:
		r.ok = false
		return
	}
	if r.rest() < 1+n {
		r.ok = false
		return
	}
	for _, x := range r.b[r.pos+1 : r.pos+1+n] {
		arg = arg<<8 | uint64(x)
	}
	r.pos += 1 + n
	return major, info, arg
}

// count reads an array head of at most len(b)/min elements; nil for
// null.
func (r *fastReader) array(min int) (n int, null bool) {
	if r.rest() == 1 && r.b[r.pos] == 0xf6 {
		r.pos++
		return 0, true
	}
	major, _, arg := r.head()
	if major != majArray || arg > uint64(r.rest()/min) {
		r.ok = false
		return 0, false
	}
	return int(arg), false
}

// decodeFast decodes data into v if v is a pointer to a type with a fast
// path and data is what the fast path reads; false otherwise.
func decodeFast(data []byte, v any) bool {
	r := &fastReader{b: data, ok: true}
	switch p := v.(type) {
	case *[]float64:
		n, null := r.array(3)
		if !r.ok {
			return false
		}
		var s []float64
		if !null {
			s = make([]float64, n)
			for i := range s {
				major, info, arg := r.head()
				if !r.ok || major != majSimple {
					return false
				}
				switch info {
				case 25:
					s[i] = float64(float16.Frombits(uint16(arg)).Float32())
				case 26:
					s[i] = float64(math.Float32frombits(uint32(arg)))
				case 27:
					s[i] = math.Float64frombits(arg)
				default:
					return false
				}
			}
		}
		if r.rest() != 0 {
			return false
		}
		*p = s
		return true
	case *[]int:
		s, ok := r.ints(math.MinInt, math.MaxInt)
		if ok {
			*p = nil
			if s != nil {
				*p = make([]int, len(s))
				for i, n := range s {
					(*p)[i] = int(n)
				}
			}
		}
		return ok
	case *[]int64:
		s, ok := r.ints(math.MinInt64, math.MaxInt64)
		if ok {
			*p = s
		}
		return ok
	}
	return false
}

// ints reads an array of integers within [lo, hi], or null.
func (r *fastReader) ints(lo, hi int64) ([]int64, bool) {
	n, null := r.array(1)
	if !r.ok {
		return nil, false
	}
	if null {
		return nil, r.rest() == 0
	}
	s := make([]int64, n)
	for i := range s {
		major, _, arg := r.head()
		if !r.ok {
			return nil, false
		}
		switch {
		case major == majUint && arg <= uint64(hi):
			s[i] = int64(arg)
		case major == majNeg && arg <= uint64(-(lo+1)):
			s[i] = -1 - int64(arg)
		default:
			return nil, false
		}
	}
	return s, r.rest() == 0
}
