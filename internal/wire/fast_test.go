package wire

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cborOnly encodes v with cbor alone, as Encode would without its fast
// paths.
func cborOnly(t testing.TB, v any) []byte {
	var buf bytes.Buffer
	buf.WriteByte(Marker)
	require.NoError(t, current.Load().plainEnc.MarshalToBuffer(v, &buf))
	return buf.Bytes()
}

// sameBits compares slices of floats bit for bit (NaNs included).
func sameBits(a, b any) bool {
	fa, ok := a.([]float64)
	if !ok {
		return reflect.DeepEqual(a, b)
	}
	fb := b.([]float64)
	if (fa == nil) != (fb == nil) || len(fa) != len(fb) {
		return false
	}
	for i := range fa {
		if math.Float64bits(fa[i]) != math.Float64bits(fb[i]) {
			return false
		}
	}
	return true
}

// TestFastPathsWriteCBOR: the fast paths write exactly what cbor writes.
func TestFastPathsWriteCBOR(t *testing.T) {
	t.Parallel()
	floats := []float64{0, math.Copysign(0, -1), 1.5, -2.25, math.MaxFloat64, math.SmallestNonzeroFloat64,
		math.Inf(1), math.Inf(-1), math.NaN(), math.Float64frombits(0x7ff0000000000123)}
	ints := []int64{0, 1, 23, 24, 255, 256, 65535, 65536, 1<<32 - 1, 1 << 32, math.MaxInt64,
		-1, -24, -25, -256, -257, -65537, math.MinInt64}
	for range 1000 {
		floats = append(floats, rand.NormFloat64()*math.Pow(10, float64(rand.IntN(40)-20)))
		ints = append(ints, rand.Int64()>>rand.IntN(64)*int64(1-2*rand.IntN(2)))
	}
	plain := make([]int, len(ints))
	for i, n := range ints {
		plain[i] = int(n)
	}
	for _, v := range []any{floats, ints, plain, []float64{}, []int(nil), []int64(nil), []float64(nil)} {
		fast, ok := encodeFast(nil, v)
		require.True(t, ok)
		assert.Equal(t, cborOnly(t, v), fast, "%T", v)
		got := reflect.New(reflect.TypeOf(v))
		require.True(t, decodeFast(fast[1:], got.Interface()), "%T", v)
		assert.True(t, sameBits(v, got.Elem().Interface()), "%T", v)
	}
	// What the fast path does not read goes to cbor: integers into
	// floats, floats into ints, an int too large for int64.
	for _, c := range []struct {
		v    any
		into any
	}{
		{[]int{1, 2}, &[]float64{}},
		{[]float64{1}, &[]int{}},
		{[]uint64{math.MaxUint64}, &[]int64{}},
		{[]any{1, "x"}, &[]int{}},
	} {
		b := cborOnly(t, c.v)
		assert.False(t, decodeFast(b[1:], c.into), "%T into %T", c.v, c.into)
	}
}

// checkFast decodes in with the fast path and with cbor alone into t: if
// the fast path takes it, cbor must decode it to the same value.
func checkFast(t *testing.T, in []byte, typ reflect.Type) {
	if len(in) == 0 || in[0] != Marker {
		return
	}
	fast := reflect.New(typ)
	if !decodeFast(in[1:], fast.Interface()) {
		return
	}
	slow := reflect.New(typ)
	if err := current.Load().plainDec.Unmarshal(in[1:], slow.Interface()); err != nil {
		t.Fatalf("into %s: the fast path took %x, cbor refuses it: %v", typ, in, err)
	}
	if !sameBits(fast.Elem().Interface(), slow.Elem().Interface()) {
		t.Fatalf("into %s: the fast path read %x as %v, cbor as %v", typ, in, fast.Elem(), slow.Elem())
	}
}
