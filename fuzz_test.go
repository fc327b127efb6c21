package mp

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"io"
	"testing"
)

// FuzzFrame feeds arbitrary bytes to the frame decoder: it must return
// frames or an error (io.EOF, ErrBadMessage, ErrMessageTooLarge), never
// panic, hang or allocate much beyond its input.
func FuzzFrame(f *testing.F) {
	f.Add(appendFrame(appendFrame(nil, []byte("a")), nil))
	f.Add([]byte{0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 2})
	f.Add(binary.BigEndian.AppendUint32(nil, 1<<20))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		var hdr [frameHeader]byte
		for {
			p, err := readFrame(r, &hdr, 1<<16)
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
	})
}

type fuzzValue struct {
	N int
	S string
	B []byte
	M map[string]int
	P *fuzzValue
	A any
}

type fuzzOther struct{ X int }

// FuzzValue feeds arbitrary bytes to the value decoder.
func FuzzValue(f *testing.F) {
	for _, v := range []any{
		fuzzValue{N: 1, S: "s", B: []byte{1}, M: map[string]int{"a": 1}, P: &fuzzValue{N: 2}, A: 3},
		42, "hello", []string{"a", "b"},
	} {
		b, err := encodeValue(nil, v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		b, _ = encodeValue(nil, v) // cached form
		f.Add(b)
	}
	f.Add([]byte{tagCached, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{tagStream})
	f.Fuzz(func(t *testing.T, in []byte) {
		var v fuzzValue
		if err := decodeValue(in, &v); err != nil && !errors.Is(err, ErrBadMessage) {
			t.Fatalf("error %v does not wrap ErrBadMessage", err)
		}
		var n int
		_ = decodeValue(in, &n)
		var a any
		_ = decodeValue(in, &a)
	})
}

func TestValueRoundTrip(t *testing.T) {
	t.Parallel()
	want := fuzzValue{N: 1, S: "s", B: []byte{1}, M: map[string]int{"a": 1}, P: &fuzzValue{N: 2}, A: 3}
	for range 3 { // the first message primes the caches
		b, err := encodeValue(nil, want)
		if err != nil {
			t.Fatal(err)
		}
		var got fuzzValue
		if err := decodeValue(b, &got); err != nil {
			t.Fatal(err)
		}
		if got.N != 1 || got.S != "s" || got.P.N != 2 || got.A != 3 {
			t.Fatalf("got %+v", got)
		}
	}
	// An interface holding a type not seen before forces whole streams.
	gob.Register(fuzzOther{})
	for range 2 {
		b, err := encodeValue(nil, fuzzValue{A: fuzzOther{7}})
		if err != nil {
			t.Fatal(err)
		}
		if b[0] != tagStream {
			t.Fatalf("tag %q, want a whole stream", b[0])
		}
		var got fuzzValue
		if err := decodeValue(b, &got); err != nil || got.A != (fuzzOther{7}) {
			t.Fatalf("got %+v, %v", got, err)
		}
	}
}
