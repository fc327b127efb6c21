package wire

import (
	"fmt"
	"math"
	"reflect"
	"slices"
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
		floats[i] = math.Sqrt(float64(i)) // full mantissas, as measured data has
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

// BenchmarkCodec measures an encode and a decode of each kind with the
// CBOR codec and, in the same loop, with the gob codec mp used before (its
// per-type caches primed, as in a long-running queue). It reports the
// median of each, their ratio (x-gob: above 1, CBOR is faster), the
// allocations of each, and the message sizes.
func BenchmarkCodec(b *testing.B) {
	type codec struct {
		enc func([]byte, any) ([]byte, error)
		dec func([]byte, any) error
	}
	cb, gb := codec{Encode, Decode}, codec{gobEncode, gobDecode}
	for _, k := range benchKinds() {
		b.Run(k.name, func(b *testing.B) {
			p := reflect.New(reflect.TypeOf(k.v)).Interface()
			var size [2]int
			once := func(c codec, i int) {
				m, err := c.enc(nil, k.v)
				if err != nil {
					b.Fatal(err)
				}
				if err := c.dec(m, p); err != nil {
					b.Fatal(err)
				}
				size[i] = len(m)
			}
			var ct, gt []time.Duration
			for b.Loop() {
				t0 := time.Now()
				once(cb, 0)
				t1 := time.Now()
				once(gb, 1)
				ct, gt = append(ct, t1.Sub(t0)), append(gt, time.Since(t1))
			}
			c, g := median(ct), median(gt)
			b.ReportMetric(float64(c.Nanoseconds()), "cbor-ns")
			b.ReportMetric(float64(g.Nanoseconds()), "gob-ns")
			b.ReportMetric(g.Seconds()/c.Seconds(), "x-gob")
			b.ReportMetric(testing.AllocsPerRun(100, func() { once(cb, 0) }), "cbor-allocs")
			b.ReportMetric(testing.AllocsPerRun(100, func() { once(gb, 1) }), "gob-allocs")
			b.ReportMetric(float64(size[0]), "cbor-bytes")
			b.ReportMetric(float64(size[1]), "gob-bytes")
		})
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
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
