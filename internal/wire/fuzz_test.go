package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// allocBound is what the fuzzers allow a decode of n bytes to allocate:
// 64 times the input, and a constant for the decoder's own state and the
// target's top level.
func allocBound(n int) uint64 { return 64*uint64(n) + 64<<10 }

// allocated runs f and returns the bytes it allocated. Allocation by other
// goroutines counts too, so a caller that finds too much measures again.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// checkAlloc fails t if f allocates more than allocBound(n) plus ahead
// (what the decoder may allocate before the bytes come) every time of
// five: tests running in parallel allocate too, and are counted.
func checkAlloc(t *testing.T, what string, n int, ahead uint64, f func()) {
	t.Helper()
	f() // warm the caches of types met for the first time
	bound := allocBound(n) + ahead
	for try := 0; ; try++ {
		got := allocated(f)
		if got <= bound {
			return
		}
		if try == 4 {
			t.Fatalf("%s: decoding %d bytes allocated %d bytes, more than %d", what, n, got, bound)
		}
	}
}

// FuzzFrame feeds arbitrary bytes to the frame reader: it must return
// frames or an error (io.EOF, ErrBadMessage, ErrMessageTooLarge), never
// panic or hang, and allocate within allocBound of its input.
func FuzzFrame(f *testing.F) {
	f.Add(AppendFrame(AppendFrame(nil, []byte("a")), nil))
	f.Add([]byte{0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 2})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 3, 'a', 'b', 'c'})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0x80, 0, 0, 0})
	f.Add(binary.BigEndian.AppendUint32(nil, 1<<20))
	f.Add(binary.BigEndian.AppendUint32(nil, 1<<16))
	f.Fuzz(func(t *testing.T, in []byte) {
		read := func() {
			r := bytes.NewReader(in)
			var hdr [HeaderSize]byte
			for {
				p, err := ReadFrame(r, &hdr, 1<<16)
				if err != nil {
					if err != io.EOF && !errors.Is(err, ErrBadMessage) && !errors.Is(err, ErrMessageTooLarge) {
						t.Fatalf("unexpected error %v", err)
					}
					return
				}
				if cap(p) > len(in) {
					t.Fatalf("allocated %d bytes for %d of input", cap(p), len(in))
				}
			}
		}
		// A frame's length is believed up to the maximum (64 KiB here)
		// before its bytes come: at most that much more (ReadChunk).
		checkAlloc(t, "frames", len(in), 1<<16, read)
		_ = ValidFrames(in)
	})
}

type fuzzValue struct {
	N int
	S string
	B []byte
	M map[string]int
	P *fuzzValue
	A any
	T time.Time
	L []fuzzValue
}

// bigElem is large beside its smallest encoding (an empty map, one byte).
type bigElem struct {
	A [32]int64
	S []string
	P *bigElem
}

type fuzzNode struct {
	V    int
	Next *fuzzNode
	Kids []*fuzzNode
}

// fuzzTargets are the types FuzzValue decodes each input into.
var fuzzTargets = []reflect.Type{
	reflect.TypeFor[fuzzValue](),
	reflect.TypeFor[map[string]int](),
	reflect.TypeFor[[]bigElem](),
	reflect.TypeFor[[]*bigElem](),
	reflect.TypeFor[map[int]bigElem](),
	reflect.TypeFor[*fuzzNode](),
	reflect.TypeFor[any](),
	reflect.TypeFor[[]any](),
	reflect.TypeFor[int](),
	reflect.TypeFor[string](),
	reflect.TypeFor[[4]bigElem](),
	reflect.TypeFor[[]float64](),
	reflect.TypeFor[[]int](),
	reflect.TypeFor[[]int64](),
}

func init() { RegisterType(bigElem{}) }

// FuzzValue feeds arbitrary bytes to the value decoder, into several
// target types: it must decode or return an error wrapping ErrBadMessage,
// never panic, and allocate within allocBound of its input.
func FuzzValue(f *testing.F) {
	seeds := []any{
		fuzzValue{N: 1, S: "s", B: []byte{1}, M: map[string]int{"a": 1}, P: &fuzzValue{N: 2}, A: 3,
			T: time.Unix(1, 2), L: []fuzzValue{{N: 4}}},
		map[string]int{"x": 1, "y": 2},
		[]bigElem{{S: []string{"a"}}, {A: [32]int64{1}}},
		map[int]bigElem{1: {}},
		&fuzzNode{V: 1, Next: &fuzzNode{V: 2}, Kids: []*fuzzNode{{V: 3}}},
		any([]any{1, "a", bigElem{}, map[string]any{"k": []byte{1}}, time.Unix(0, 0)}),
		42, "hello", []string{"a", "b"}, nil,
		[]float64{1.5, math.NaN()}, []int{-1, 1 << 40}, []int64{math.MinInt64}, []uint64{math.MaxUint64},
		[]float32{1.5}, []any{1.5, 1},
	}
	for _, v := range seeds {
		b, err := Encode(nil, v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{Marker, 0x9a, 0, 1, 0, 0, 0xa0, 0xa0, 0xa0})
	f.Add([]byte{Marker, 0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{Marker})
	f.Add(append([]byte{Marker, 0x82, 0xf9, 0x7e, 0x00}, 0xfa, 0x7f, 0xc0, 0, 0))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, typ := range fuzzTargets {
			checkFast(t, in, typ)
			p := reflect.New(typ)
			var err error
			checkAlloc(t, typ.String(), len(in), 0, func() {
				err = Decode(in, p.Interface())
			})
			if err != nil && !errors.Is(err, ErrBadMessage) {
				t.Fatalf("into %s: error %v does not wrap ErrBadMessage", typ, err)
			}
			if err == nil {
				// What decodes encodes again (depth and all), and
				// decodes to the same value.
				b, err := Encode(nil, p.Elem().Interface())
				if err != nil && strings.Contains(err.Error(), "outside of range [0,9999] for RFC 3339") {
					continue // a time from a numeric tag, beyond what RFC 3339 writes
				}
				if err != nil {
					t.Fatalf("into %s: decoded %#v, cannot encode it: %v", typ, p.Elem().Interface(), err)
				}
				q := reflect.New(typ)
				if err := Decode(b, q.Interface()); err != nil {
					t.Fatalf("into %s: re-encoded value does not decode: %v", typ, err)
				}
			}
		}
	})
}
