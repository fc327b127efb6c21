package wire

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

type benchItem struct {
	N int
	S string
}

type benchTen struct {
	A, B, C int64
	D, E    string
	F       float64
	G       bool
	H       []byte
	I       uint32
	J       time.Duration
}

// benchKinds are the typical items of the issue: {int, string}, a struct
// of ten fields, 1000 float64s, a map of 100 string keys, a time.
func benchKinds() []struct {
	name string
	v    any
} {
	floats := make([]float64, 1000)
	for i := range floats {
		floats[i] = float64(i) * 1.5
	}
	m := make(map[string]int, 100)
	for i := range 100 {
		m[fmt.Sprint("key", i)] = i
	}
	return []struct {
		name string
		v    any
	}{
		{"item", benchItem{42, "hello"}},
		{"struct10", benchTen{1, 2, 3, "four", "five", 6.5, true, []byte("eight"), 9, 10 * time.Second}},
		{"floats1000", floats},
		{"map100", m},
		{"time", time.Date(2024, 5, 6, 7, 8, 9, 10, time.UTC)},
	}
}

// BenchmarkCodec measures an encode and a decode of each kind, with the
// CBOR codec and with the gob codec mp used before (its per-type caches
// primed, as in a long-running queue). Compare the pairs: cbor/X and
// gob/X, ns/op and allocs/op.
func BenchmarkCodec(b *testing.B) {
	for _, k := range benchKinds() {
		t := reflect.TypeOf(k.v)
		for _, c := range []struct {
			name string
			enc  func([]byte, any) ([]byte, error)
			dec  func([]byte, any) error
		}{
			{"cbor", Encode, Decode},
			{"gob", gobEncode, gobDecode},
		} {
			b.Run(c.name+"/"+k.name, func(b *testing.B) {
				p := reflect.New(t).Interface()
				var size int
				for b.Loop() {
					m, err := c.enc(nil, k.v)
					if err != nil {
						b.Fatal(err)
					}
					if err := c.dec(m, p); err != nil {
						b.Fatal(err)
					}
					size = len(m)
				}
				b.ReportMetric(float64(size), "bytes/msg")
			})
		}
	}
}

func TestGobBaselineRoundTrip(t *testing.T) {
	t.Parallel()
	for _, k := range benchKinds() {
		for range 2 {
			m, err := gobEncode(nil, k.v)
			if err != nil {
				t.Fatal(err)
			}
			p := reflect.New(reflect.TypeOf(k.v))
			if err := gobDecode(m, p.Interface()); err != nil {
				t.Fatal(err)
			}
		}
	}
}
