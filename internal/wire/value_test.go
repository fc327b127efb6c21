package wire

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type job struct {
	N    int
	Name string
}

type inner struct {
	A []int
	M map[string]float64
}

type outer struct {
	I   inner
	P   *inner
	PP  **int
	S   []inner
	B   []byte
	Arr [3]uint16
	T   time.Time
	Any any
	F32 float32
	U   uint64
	I8  int8
	Bl  bool
}

type registered struct {
	X int
	Y string
}

type celsius float64

type node struct {
	V    int
	Next *node
}

type secret struct {
	Public  int
	private int
}

type nested struct {
	Ok  int
	Bad secret
}

type leftBehind struct {
	N  int
	mu chan int `mp:"-"`
}

type selfEnc struct{ v int }

func (s selfEnc) MarshalBinary() ([]byte, error) { return []byte{byte(s.v)}, nil }
func (s *selfEnc) UnmarshalBinary(b []byte) error {
	if len(b) != 1 {
		return errors.New("bad")
	}
	s.v = int(b[0])
	return nil
}

func init() { RegisterType(registered{}) }

func roundTrip[T any](t *testing.T, v T) T {
	t.Helper()
	b, err := Encode(nil, v)
	require.NoError(t, err)
	var got T
	require.NoError(t, Decode(b, &got))
	return got
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	seven := 7
	p7 := &seven
	now := time.Now()
	o := outer{
		I: inner{A: []int{1, 2}, M: map[string]float64{"pi": math.Pi}}, P: &inner{A: []int{}}, PP: &p7,
		S: []inner{{}, {A: []int{3}}}, B: []byte{0, 1, 255}, Arr: [3]uint16{1, 2, 3}, T: now,
		Any: registered{X: 1, Y: "y"}, F32: 1.5, U: math.MaxUint64, I8: -128, Bl: true,
	}
	got := roundTrip(t, o)
	assert.True(t, got.T.Equal(now), "time %v != %v", got.T, now)
	got.T, o.T = time.Time{}, time.Time{}
	assert.Equal(t, o, got)

	assert.Equal(t, job{5, "five"}, roundTrip(t, job{5, "five"}))
	assert.Equal(t, "\xff\xfe not utf-8", roundTrip(t, "\xff\xfe not utf-8"))
	assert.Equal(t, []string(nil), roundTrip(t, []string(nil)))
	assert.Equal(t, []string{}, roundTrip(t, []string{}))
	assert.Equal(t, map[int]string(nil), roundTrip(t, map[int]string(nil)))
	assert.Equal(t, [2]job{{1, "a"}}, roundTrip(t, [2]job{{1, "a"}}))
	assert.Equal(t, celsius(21.5), roundTrip(t, celsius(21.5)))
	assert.Equal(t, selfEnc{v: 9}, roundTrip(t, selfEnc{v: 9}))
	assert.True(t, math.IsNaN(roundTrip(t, math.NaN())))
	assert.Equal(t, math.Inf(-1), roundTrip(t, math.Inf(-1)))
	assert.Equal(t, leftBehind{N: 3}, roundTrip(t, leftBehind{N: 3, mu: make(chan int)}))
	list := &node{1, &node{2, &node{3, nil}}}
	assert.Equal(t, list, roundTrip(t, list))
}

// TestAnyBuiltins documents what an interface holding a builtin value
// decodes as.
func TestAnyBuiltins(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 6, 7, 8, 9, 10, time.UTC)
	in := []any{1, -2, uint8(3), 1.5, float32(2.5), "s", []byte("b"), true, nil, []int{1}, map[string]int{"a": 1}, now,
		registered{X: 2}, &registered{X: 3}}
	got := roundTrip(t, any(in))
	assert.Equal(t, []any{int64(1), int64(-2), int64(3), 1.5, 2.5, "s", []byte("b"), true, nil, []any{int64(1)},
		map[any]any{"a": int64(1)}, now, registered{X: 2}, registered{X: 3}}, got)
}

func TestNil(t *testing.T) {
	t.Parallel()
	for _, v := range []any{nil, (*job)(nil), []int(nil), map[string]int(nil)} {
		b, err := Encode(nil, v)
		require.NoError(t, err, "%T", v)
		p := &job{N: 5, Name: "five"}
		require.NoError(t, Decode(b, &p))
		assert.Nil(t, p)
		j := job{N: 5, Name: "five"}
		require.NoError(t, Decode(b, &j))
		assert.Equal(t, job{}, j)
		var a any = 3
		require.NoError(t, Decode(b, &a))
		assert.Nil(t, a)
		var e error = errors.New("x")
		require.NoError(t, Decode(b, &e))
		assert.Nil(t, e)
	}
}

func TestNoStaleFields(t *testing.T) {
	t.Parallel()
	v := job{N: 5, Name: "five"}
	b, err := Encode(nil, job{N: 0})
	require.NoError(t, err)
	require.NoError(t, Decode(b, &v))
	assert.Equal(t, job{}, v)
	m := map[string]int{"old": 1}
	b, err = Encode(nil, map[string]int{"new": 2})
	require.NoError(t, err)
	require.NoError(t, Decode(b, &m))
	assert.Equal(t, map[string]int{"new": 2}, m)
}

func TestRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v    any
		want string
	}{
		{secret{private: 1}, "cannot encode wire.secret: field wire.secret.private is unexported"},
		{nested{}, "cannot encode wire.secret: field wire.secret.private is unexported"},
		{[]*secret{}, "secret.private is unexported"},
		{map[string]secret{}, "secret.private is unexported"},
		{struct{ C chan int }{}, "C (chan int)"},
		{struct{ F func() }{}, "a func cannot cross"},
		{complex(1, 2), "a complex128 cannot cross"},
		{[]any{celsius(1)}, "cannot encode wire.celsius inside an interface: register wire.celsius"},
		{map[string]any{"j": []job{{}}}, "register wire.job"},
		{[]any{secret{}}, "secret.private is unexported"},
	} {
		_, err := Encode(nil, tc.v)
		require.Error(t, err, "%T", tc.v)
		assert.ErrorIs(t, err, ErrBadMessage)
		assert.Contains(t, err.Error(), tc.want)
		assert.True(t, strings.HasPrefix(err.Error(), "mp: "), err.Error())
	}
}

// TestTooDeep: a value nested beyond MaxDepth is an error, however deep
// (a stack overflow would kill the process).
func TestTooDeep(t *testing.T) {
	t.Parallel()
	var list *node
	for i := range 10_000_000 {
		list = &node{V: i, Next: list}
	}
	_, err := Encode(nil, list)
	require.ErrorIs(t, err, ErrBadMessage)
	assert.Contains(t, err.Error(), "nested more than 10000 levels")

	var a any = 1
	for range 20000 {
		a = []any{a}
	}
	_, err = Encode(nil, a)
	assert.ErrorIs(t, err, ErrBadMessage)

	// Just within the limit: a list of MaxDepth/2 nodes (a pointer and a
	// struct a node) crosses.
	list = nil
	for i := range MaxDepth/2 - 1 {
		list = &node{V: i, Next: list}
	}
	got := roundTrip(t, list)
	n := 0
	for p := got; p != nil; p = p.Next {
		n++
	}
	assert.Equal(t, MaxDepth/2-1, n)
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	var j job
	for _, b := range [][]byte{nil, {}, {'x'}, {Marker}, {Marker, 0xff}, {Marker, 0x61}, {Marker, 0x01, 0x01}} {
		err := Decode(b, &j)
		require.Error(t, err, "%x", b)
		assert.ErrorIs(t, err, ErrBadMessage)
	}
	b, err := Encode(nil, "text")
	require.NoError(t, err)
	assert.ErrorIs(t, Decode(b, &j), ErrBadMessage)
	assert.Error(t, Decode(b, j))
	assert.Error(t, Decode(b, (*job)(nil)))
}

type bigStruct struct {
	A [64]int64
	S []int
}

// TestBudget: a message whose items are small but whose targets are large
// is refused before it is decoded, and a real one passes.
func TestBudget(t *testing.T) {
	// Not parallel: it measures the process's allocation.
	legit := make([]bigStruct, 100)
	for i := range legit {
		legit[i].A[3] = int64(i)
	}
	assert.Equal(t, legit, roundTrip(t, legit))

	// An array of 100000 empty maps: 1 byte each, 512+ bytes each decoded.
	evil := append([]byte{Marker, 0x9a, 0, 1, 0x86, 0xa0}, make([]byte, 100000)...)
	for i := 6; i < len(evil); i++ {
		evil[i] = 0xa0
	}
	var v []bigStruct
	err := Decode(evil, &v)
	require.ErrorIs(t, err, ErrBadMessage)
	assert.Contains(t, err.Error(), "would allocate")

	var p []*bigStruct
	err = Decode(evil, &p)
	require.ErrorIs(t, err, ErrBadMessage)

	// The fuzzers' oracle sees what the walk prevents: decoded without
	// it, the message allocates over 500 times its size.
	n := allocated(func() { _ = current.Load().dec.Unmarshal(evil[1:], &v) })
	assert.Greater(t, n, allocBound(len(evil)), "the unchecked decode allocated %d", n)
	n = allocated(func() { _ = Decode(evil, &v) })
	assert.Less(t, n, allocBound(len(evil)), "the checked decode allocated %d", n)

	// The same through an interface holding a registered large type.
	RegisterType(bigReg{})
	tagged, err := Encode(nil, any(bigReg{}))
	require.NoError(t, err)
	item := append(tagged[1:10:10], 0xa0) // the tag and an empty map
	evil = []byte{Marker, 0x9a, 0, 0, 0x27, 0x10}
	for range 10000 {
		evil = append(evil, item...)
	}
	var a any
	err = Decode(evil, &a)
	require.ErrorIs(t, err, ErrBadMessage)
	assert.Contains(t, err.Error(), "would allocate")
}

type bigReg struct{ A [256]int64 }

// TestNestedTags: a chain of tags, which cbor would decode into an
// interface with allocation quadratic in its length, is refused.
func TestNestedTags(t *testing.T) {
	// Not parallel: it measures the process's allocation.
	msg := []byte{Marker}
	for range 5000 {
		msg = append(msg, 0xc6)
	}
	msg = append(msg, 0x01)
	var a any
	n := allocated(func() {
		err := Decode(msg, &a)
		assert.ErrorIs(t, err, ErrBadMessage)
	})
	assert.Less(t, n, allocBound(len(msg)))
	var m map[string]any
	assert.ErrorIs(t, Decode(append([]byte{Marker, 0xa1, 0x61, 'k'}, msg[1:]...), &m), ErrBadMessage)
}

// TestEmptyMaps: maps cost their header even empty.
func TestEmptyMaps(t *testing.T) {
	// Not parallel: it measures the process's allocation.
	msg := []byte{Marker, 0x99, 0x27, 0x10} // an array of 10000
	for range 10000 {
		msg = append(msg, 0xa0)
	}
	for _, p := range []any{new([]map[string]int), new([]any), new(any), new([]*map[int]int)} {
		n := allocated(func() { _ = Decode(msg, p) })
		assert.Less(t, n, allocBound(len(msg)), "%T", p)
	}
	// Some empty maps among others are fine.
	legit := make([]map[string]int, 100)
	for i := range legit {
		legit[i] = map[string]int{}
		if i%3 == 0 {
			legit[i]["key"] = i
		}
	}
	assert.Equal(t, legit, roundTrip(t, legit))
}

func TestRegisterType(t *testing.T) {
	t.Parallel()
	RegisterType(registered{}) // twice is harmless
	RegisterType(&registered{})
	assert.Panics(t, func() { RegisterType(nil) })
	assert.Panics(t, func() { RegisterType(1) })
	assert.Panics(t, func() { RegisterType([]registered{}) })
	assert.Panics(t, func() { RegisterType(secret{}) })
	assert.Equal(t, tagOf(reflect.TypeFor[registered]()), tagOf(reflect.TypeFor[registered]()))
	assert.NotEqual(t, tagOf(reflect.TypeFor[registered]()), tagOf(reflect.TypeFor[job]()))
	assert.GreaterOrEqual(t, tagOf(reflect.TypeFor[job]()), uint64(1)<<63)
}

func localA() any {
	type local struct{ A int }
	return local{}
}

func localB() any {
	type local struct{ B string }
	return local{}
}

// TestRegisterCollision: two types with one name (declared in two
// functions) would get one tag number: the second registration panics.
func TestRegisterCollision(t *testing.T) {
	t.Parallel()
	RegisterType(localA())
	assert.PanicsWithValue(t,
		"mp: RegisterType: github.com/go-mp/mp/internal/wire.local and github.com/go-mp/mp/internal/wire.local have the same tag number ("+
			fmt.Sprintf("%#x", tagOf(reflect.TypeOf(localB())))+"): rename one",
		func() { RegisterType(localB()) })
}
