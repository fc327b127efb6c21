package mp_test

import (
	"fmt"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
)

func init() {
	ipcTargets = append(ipcTargets, valueEcho, valueQueueEcho, deepArg, &secretRunner{})
	mp.RegisterType(shape{}, &circle{})
}

// shape and circle travel inside interface values: registered.
type shape struct {
	Name  string
	Sides int
}

type circle struct{ R float64 }

// notRegistered is a named type no one registered.
type notRegistered struct{ X int }

type allKinds struct {
	I      int
	I8     int8
	U64    uint64
	F32    float32
	F64    float64
	B      bool
	S      string
	Bytes  []byte
	Arr    [3]int
	Sl     []item
	M      map[string][]int
	MK     map[int]item
	P      *item
	PP     **string
	T      time.Time
	D      time.Duration
	Any    any
	Shape  any
	List   *node
	Nested struct {
		Inner []map[string]*item
	}
}

type node struct {
	V    int
	Next *node
}

// valueCase is a value sent, the type it is received into, and what
// arrives (the value itself unless want says otherwise).
type valueCase struct {
	name string
	v    any
	typ  reflect.Type
	want any
}

func valueCases() []valueCase {
	s := "pointed"
	ps := &s
	when := time.Date(2024, 2, 29, 23, 59, 58, 123456789, time.FixedZone("X", 5*3600+1800))
	full := allKinds{
		I: -1 << 40, I8: -8, U64: 1<<64 - 1, F32: 1.25, F64: 3.5e300, B: true, S: "héllo\x00\xff", Bytes: []byte{0, 1, 2},
		Arr: [3]int{1, 2, 3}, Sl: []item{{1, "a"}, {}}, M: map[string][]int{"a": {1}, "nil": nil}, MK: map[int]item{-3: {3, "c"}},
		P: &item{9, "nine"}, PP: &ps, T: when, D: time.Hour, Any: []any{"x", 2.5}, Shape: shape{"tri", 3},
		List: &node{1, &node{2, nil}},
	}
	full.Nested.Inner = []map[string]*item{{"k": {1, "one"}, "nil": nil}}
	tf := reflect.TypeFor[allKinds]()
	return []valueCase{
		{"struct", item{7, "seven"}, reflect.TypeFor[item](), nil},
		{"all kinds", full, tf, fullWant(full)},
		{"zero struct", allKinds{}, tf, nil},
		{"time", when, reflect.TypeFor[time.Time](), nil},
		{"pointer", &item{1, "x"}, reflect.TypeFor[*item](), nil},
		{"nil pointer", (*item)(nil), reflect.TypeFor[*item](), nil},
		{"untyped nil into a pointer", nil, reflect.TypeFor[*item](), (*item)(nil)},
		{"untyped nil into a struct", nil, reflect.TypeFor[item](), item{}},
		{"untyped nil into an interface", nil, reflect.TypeFor[any](), nil},
		{"nil slice", []int(nil), reflect.TypeFor[[]int](), nil},
		{"empty slice", []int{}, reflect.TypeFor[[]int](), nil},
		{"nil map", map[string]int(nil), reflect.TypeFor[map[string]int](), nil},
		{"registered in any", any(shape{"square", 4}), reflect.TypeFor[any](), nil},
		{"registered pointer in any", any(&circle{2}), reflect.TypeFor[any](), circle{2}},
		{"builtins in any", []any{1, "s", 1.5, true, nil, []byte{1}}, reflect.TypeFor[[]any](),
			[]any{int64(1), "s", 1.5, true, nil, []byte{1}}},
		{"map in any", any(map[string]int{"a": 1}), reflect.TypeFor[any](), map[any]any{"a": int64(1)}},
		{"zero int", 0, reflect.TypeFor[int](), nil},
		{"empty string", "", reflect.TypeFor[string](), nil},
		{"big", make([]byte, 200<<10), reflect.TypeFor[[]byte](), nil},
	}
}

// fullWant is what allKinds arrives as: its times compare with Equal, its
// any fields hold builtins as the codec decodes them.
func fullWant(v allKinds) allKinds {
	v.Any = []any{"x", 2.5}
	return v
}

func (c valueCase) expected() any {
	if c.want != nil || c.v == nil {
		return c.want
	}
	return c.v
}

// valueEcho receives each value of valueCases into a variable of its
// type and sends it back.
func valueEcho(c *mp.Conn) error {
	for _, vc := range valueCases() {
		p := reflect.New(vc.typ)
		if err := c.Recv(p.Interface()); err != nil {
			return fmt.Errorf("%s: %w", vc.name, err)
		}
		if err := c.Send(p.Elem().Interface()); err != nil {
			return fmt.Errorf("%s: %w", vc.name, err)
		}
	}
	return nil
}

// valueQueueEcho is valueEcho over queues.
func valueQueueEcho(in, out *mp.Queue) error {
	for _, vc := range valueCases() {
		p := reflect.New(vc.typ)
		if err := in.Get(p.Interface()); err != nil {
			return fmt.Errorf("%s: %w", vc.name, err)
		}
		if err := out.Put(p.Elem().Interface()); err != nil {
			return fmt.Errorf("%s: %w", vc.name, err)
		}
	}
	return out.Close()
}

func assertSame(t *testing.T, want, got any, name string) {
	t.Helper()
	if w, ok := want.(allKinds); ok {
		g := got.(allKinds)
		assert.True(t, w.T.Equal(g.T), "%s: time %v, want %v", name, g.T, w.T)
		w.T, g.T = time.Time{}, time.Time{}
		assert.Equal(t, w, g, name)
		return
	}
	if w, ok := want.(time.Time); ok {
		assert.True(t, w.Equal(got.(time.Time)), "%s: %v, want %v", name, got, w)
		return
	}
	assert.Equal(t, want, got, name)
}

// TestValuesBetweenProcesses sends every kind of value to a child and
// back, through a Pipe and through Queues, under both start methods.
func TestValuesBetweenProcesses(t *testing.T) {
	t.Parallel()
	for _, m := range mp.AllStartMethods() {
		t.Run(string(m)+"/pipe", func(t *testing.T) {
			t.Parallel()
			a, b := pipe(t, true)
			p := mp.NewProcess(valueEcho, b)
			p.StartMethod = m
			start(t, p)
			require.NoError(t, b.Close())
			for _, vc := range valueCases() {
				require.NoError(t, a.Send(vc.v), vc.name)
				got := reflect.New(vc.typ)
				require.NoError(t, a.Recv(got.Interface()), vc.name)
				assertSame(t, vc.expected(), got.Elem().Interface(), vc.name)
			}
			require.NoError(t, p.Join())
		})
		t.Run(string(m)+"/queue", func(t *testing.T) {
			t.Parallel()
			in, out := newQueue(t, 0), newQueue(t, 0)
			p := mp.NewProcess(valueQueueEcho, in, out)
			p.StartMethod = m
			start(t, p)
			for _, vc := range valueCases() {
				require.NoError(t, in.Put(vc.v), vc.name)
			}
			for _, vc := range valueCases() {
				got := reflect.New(vc.typ)
				require.NoError(t, out.Get(got.Interface()), vc.name)
				assertSame(t, vc.expected(), got.Elem().Interface(), vc.name)
			}
			require.NoError(t, p.Join())
		})
	}
}

// TestNoStaleFields: a value received into a variable replaces it; fields
// the new value has at zero do not keep the old ones.
func TestNoStaleFields(t *testing.T) {
	t.Parallel()
	q := newQueue(t, 0)
	require.NoError(t, q.Put(item{N: 5, S: "five"}))
	require.NoError(t, q.Put(item{N: 0}))
	require.NoError(t, q.Put(map[string]int{"b": 2}))
	var it item
	require.NoError(t, q.Get(&it))
	assert.Equal(t, item{5, "five"}, it)
	require.NoError(t, q.Get(&it))
	assert.Equal(t, item{}, it)
	m := map[string]int{"a": 1}
	require.NoError(t, q.Get(&m))
	assert.Equal(t, map[string]int{"b": 2}, m)

	a, b := pipe(t, true)
	p := &item{7, "old"}
	require.NoError(t, a.Send((*item)(nil)))
	require.NoError(t, b.Recv(&p))
	assert.Nil(t, p)
}

// TestNonePill: nil is Python's None, the poison pill that tells a
// consumer to stop.
func TestNonePill(t *testing.T) {
	t.Parallel()
	q := newQueue(t, 0)
	for _, v := range []any{&item{1, "a"}, &item{2, "b"}, nil} {
		require.NoError(t, q.Put(v))
	}
	var got []item
	for {
		var it *item
		require.NoError(t, q.Get(&it))
		if it == nil {
			break
		}
		got = append(got, *it)
	}
	assert.Equal(t, []item{{1, "a"}, {2, "b"}}, got)
}

type withSecret struct {
	Public int
	secret int
}

// secretRunner is a Runner with an unexported field: Start refuses it.
type secretRunner struct {
	N     int
	state []int
}

func (r *secretRunner) Run() error { return nil }

func deepArg(n *node) {}

func deepList(n int) *node {
	var l *node
	for i := range n {
		l = &node{V: i, Next: l}
	}
	return l
}

// TestRefusedValues: what cannot cross is an error naming why, at Send,
// Put and Start, and Start then starts nothing.
func TestRefusedValues(t *testing.T) {
	t.Parallel()
	a, _ := pipe(t, true)
	q := newQueue(t, 0)
	deep := deepList(10_000_000) // 10^7 levels: a crash if encoded recursively
	for _, tc := range []struct {
		v    any
		want string
	}{
		{withSecret{1, 2}, "field mp_test.withSecret.secret is unexported"},
		{[]any{notRegistered{1}}, "register mp_test.notRegistered"},
		{deep, fmt.Sprintf("nested more than %d levels", mp.MaxDepth)},
		{struct{ C chan int }{}, "a chan cannot cross"},
	} {
		for name, send := range map[string]func(any) error{"Send": a.Send, "Put": q.Put} {
			err := send(tc.v)
			require.ErrorIs(t, err, mp.ErrBadMessage, name)
			assert.Contains(t, err.Error(), tc.want, name)
		}
	}

	for _, m := range mp.AllStartMethods() {
		p := mp.NewProcess(deepArg, deep)
		p.StartMethod = m
		err := p.Start()
		require.ErrorIs(t, err, mp.ErrArgs)
		require.ErrorIs(t, err, mp.ErrBadMessage)
		assert.Contains(t, err.Error(), "nested more than")
		assert.False(t, p.IsAlive())

		p = mp.NewProcess(&secretRunner{N: 1, state: []int{1}})
		p.StartMethod = m
		err = p.Start()
		require.ErrorIs(t, err, mp.ErrBadMessage)
		assert.Contains(t, err.Error(), "field mp_test.secretRunner.state is unexported")
		assert.False(t, p.IsAlive())
	}
}

// TestRecvWrongType: a value received into a type it does not fit is
// ErrBadMessage, and the stream goes on.
func TestRecvWrongType(t *testing.T) {
	t.Parallel()
	a, b := pipe(t, true)
	require.NoError(t, a.Send("text"))
	require.NoError(t, a.Send(item{1, "x"}))
	require.NoError(t, a.SendBytes([]byte("raw")))
	var it item
	assert.ErrorIs(t, b.Recv(&it), mp.ErrBadMessage)
	require.NoError(t, b.Recv(&it))
	assert.Equal(t, item{1, "x"}, it)
	err := b.Recv(&it)
	assert.ErrorIs(t, err, mp.ErrBadMessage)
	assert.Contains(t, err.Error(), "SendBytes")
	require.NoError(t, a.Close())
	assert.Equal(t, io.EOF, b.Recv(&it))
}
