package managers_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/managers"
)

// Ports of CPython's _TestContainers (Lib/test/_test_multiprocessing.py).

func TestList(t *testing.T) {
	t.Parallel()
	m := newManager(t)
	a := must[*managers.List[int]](t)(managers.NewList[int](m))
	require.NoError(t, a.Extend(0, 1, 2, 3, 4, 5, 6, 7, 8, 9))
	assert.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, must[[]int](t)(a.All()))

	b := must[*managers.List[int]](t)(managers.NewList[int](m))
	assert.Equal(t, []int{}, must[[]int](t)(b.All()))
	require.NoError(t, b.Extend(0, 1, 2, 3, 4))
	assert.Equal(t, []int{0, 1, 2, 3, 4}, must[[]int](t)(b.All()))
	assert.Equal(t, 2, must[int](t)(b.Get(2)))
	assert.Equal(t, []int{2, 3, 4}, must[[]int](t)(b.Slice(2, 10)))
	assert.Equal(t, 4, must[int](t)(b.Get(-1)))
	_, err := b.Get(5)
	assert.ErrorIs(t, err, managers.ErrIndex)
	_, err = b.Get(-6)
	assert.ErrorIs(t, err, managers.ErrIndex)

	// A list of proxies: e = [a, b].
	e := must[*managers.List[*managers.List[int]]](t)(managers.NewList[*managers.List[int]](m))
	require.NoError(t, e.Extend(a, b))
	var got [][]int
	for _, l := range must[[]*managers.List[int]](t)(e.All()) {
		got = append(got, must[[]int](t)(l.All()))
	}
	assert.Equal(t, [][]int{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {0, 1, 2, 3, 4}}, got)

	// f = [a]; a.append(...) shows through f[0].
	f := must[*managers.List[*managers.List[int]]](t)(managers.NewList[*managers.List[int]](m))
	require.NoError(t, f.Append(a))
	require.NoError(t, a.Append(10))
	assert.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, must[[]int](t)(must[*managers.List[int]](t)(f.Get(0)).All()))
}

func TestListProxyInList(t *testing.T) {
	t.Parallel()
	m := newManager(t)
	a := must[*managers.List[*managers.List[int]]](t)(managers.NewList[*managers.List[int]](m))
	for range 3 {
		inner := must[*managers.List[int]](t)(managers.NewList[int](m))
		require.NoError(t, inner.Extend(0, 1, 2))
		require.NoError(t, a.Append(inner))
	}
	item := func(i int) *managers.List[int] { return must[*managers.List[int]](t)(a.Get(i)) }
	for i := range 3 {
		assert.Equal(t, []int{0, 1, 2}, must[[]int](t)(item(i).All()))
	}
	require.NoError(t, item(0).Set(-1, 55))
	assert.Equal(t, []int{0, 1, 55}, must[[]int](t)(item(0).All()))
	for i := 1; i < 3; i++ {
		assert.Equal(t, []int{0, 1, 2}, must[[]int](t)(item(i).All()))
	}
	assert.Equal(t, 2, must[int](t)(item(1).Pop(-1)))
	assert.Equal(t, 2, must[int](t)(item(1).Len()))
	assert.Equal(t, 3, must[int](t)(item(0).Len()))
	assert.Equal(t, 3, must[int](t)(item(2).Len()))
}

func TestDict(t *testing.T) {
	t.Parallel()
	m := newManager(t)
	d := must[*managers.Dict[int, string]](t)(managers.NewDict[int, string](m))
	indices := []int{65, 66, 67, 68, 69}
	want := map[int]string{}
	for _, i := range indices {
		require.NoError(t, d.Set(i, string(rune(i))))
		want[i] = string(rune(i))
	}
	assert.Equal(t, want, must[map[int]string](t)(d.Map()))
	assert.Equal(t, indices, must[[]int](t)(d.Keys()), "in insertion order")
	assert.Equal(t, []string{"A", "B", "C", "D", "E"}, must[[]string](t)(d.Values()))
	items := must[func(func(int, string) bool)](t)(d.Items())
	var keys []int
	for k, v := range items {
		keys = append(keys, k)
		assert.Equal(t, string(rune(k)), v)
	}
	assert.Equal(t, indices, keys)

	// An iterator is a snapshot: clearing the dict does not change it
	// (Python's would raise RuntimeError).
	items = must[func(func(int, string) bool)](t)(d.Items())
	require.NoError(t, d.Clear())
	n := 0
	for range items {
		n++
	}
	assert.Equal(t, 5, n)
	assert.Equal(t, 0, must[int](t)(d.Len()))
}

func TestDictMethods(t *testing.T) {
	t.Parallel()
	m := newManager(t)
	d := must[*managers.Dict[string, int]](t)(managers.NewDict[string, int](m))
	_, err := d.Get("x")
	assert.ErrorIs(t, err, managers.ErrKeyNotFound)
	assert.ErrorIs(t, d.Delete("x"), managers.ErrKeyNotFound)
	_, err = d.Pop("x")
	assert.ErrorIs(t, err, managers.ErrKeyNotFound)
	_, _, err = d.PopItem()
	assert.ErrorIs(t, err, managers.ErrKeyNotFound)
	assert.Equal(t, 7, must[int](t)(d.GetDefault("x", 7)))
	assert.False(t, must[bool](t)(d.Contains("x")))

	assert.Equal(t, 1, must[int](t)(d.SetDefault("x", 1)))
	assert.Equal(t, 1, must[int](t)(d.SetDefault("x", 2)))
	require.NoError(t, d.Update(map[string]int{"y": 2, "z": 3}))
	assert.True(t, must[bool](t)(d.Contains("y")))
	v, ok, err := d.Lookup("z")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, 3, v)
	assert.Equal(t, 3, must[int](t)(d.Len()))
	assert.Equal(t, 2, must[int](t)(d.Pop("y")))
	k, v, err := d.PopItem()
	require.NoError(t, err)
	assert.Equal(t, "z", k)
	assert.Equal(t, 3, v)
	require.NoError(t, d.Delete("x"))
	assert.Equal(t, 0, must[int](t)(d.Len()))

	// Add: a missing key counts as zero; integers wrap as Go's do.
	assert.Equal(t, 5, must[int](t)(d.Add("n", 5)))
	assert.Equal(t, 3, must[int](t)(d.Add("n", -2)))
	small := must[*managers.Dict[string, int8]](t)(managers.NewDict[string, int8](m))
	require.NoError(t, small.Set("b", 127))
	assert.Equal(t, int8(-128), must[int8](t)(small.Add("b", 1)))
	u := must[*managers.Dict[string, uint16]](t)(managers.NewDict[string, uint16](m))
	assert.Equal(t, uint16(65535), must[uint16](t)(u.Add("u", 65535)))
	assert.Equal(t, uint16(1), must[uint16](t)(u.Add("u", 2)))
	f := must[*managers.Dict[string, float64]](t)(managers.NewDict[string, float64](m))
	assert.Equal(t, 2.25, must[float64](t)(f.Add("f", 2.25)))
	assert.Equal(t, 2.75, must[float64](t)(f.Add("f", 0.5)))
	s := must[*managers.Dict[string, string]](t)(managers.NewDict[string, string](m))
	_, err = s.Add("s", "x")
	assert.ErrorIs(t, err, managers.ErrNotNumber)
	// A stored value that is not a number.
	a := must[*managers.Dict[string, any]](t)(managers.NewDict[string, any](m))
	require.NoError(t, a.Set("s", "text"))
	b, err := a.MarshalBinary()
	require.NoError(t, err)
	var ints managers.Dict[string, int]
	require.NoError(t, ints.UnmarshalBinary(b))
	_, err = ints.Add("s", 1)
	assert.ErrorIs(t, err, managers.ErrNotNumber)
	_, err = ints.Get("s")
	assert.ErrorIs(t, err, mp.ErrBadMessage, "a string decoded as an int")
}

func TestDictProxyNested(t *testing.T) {
	t.Parallel()
	m := newManager(t)
	newInts := func(kv map[string]int) *managers.Dict[string, int] {
		d := must[*managers.Dict[string, int]](t)(managers.NewDict[string, int](m))
		require.NoError(t, d.Update(kv))
		return d
	}
	pets := newInts(map[string]int{"ferrets": 2, "hamsters": 4})
	supplies := newInts(map[string]int{"water": 10, "feed": 3})
	d := must[*managers.Dict[string, *managers.Dict[string, int]]](t)(managers.NewDict[string, *managers.Dict[string, int]](m))
	require.NoError(t, d.Set("pets", pets))
	require.NoError(t, d.Set("supplies", supplies))
	get := func(outer, inner string) int {
		return must[int](t)(must[*managers.Dict[string, int]](t)(d.Get(outer)).Get(inner))
	}
	assert.Equal(t, 10, must[int](t)(supplies.Get("water")))
	assert.Equal(t, 10, get("supplies", "water"))

	require.NoError(t, must[*managers.Dict[string, int]](t)(d.Get("supplies")).Set("blankets", 5))
	assert.Equal(t, 5, must[int](t)(supplies.Get("blankets")))
	assert.Equal(t, 5, get("supplies", "blankets"))

	// The proxies this process made are let go of: the server keeps the
	// objects for the dict that holds them.
	require.NoError(t, pets.Close())
	require.NoError(t, supplies.Close())
	assert.Equal(t, 2, get("pets", "ferrets"))
	pets = must[*managers.Dict[string, int]](t)(d.Get("pets"))
	supplies = must[*managers.Dict[string, int]](t)(d.Get("supplies"))
	require.NoError(t, d.Clear())
	assert.Equal(t, 0, must[int](t)(d.Len()))
	assert.Equal(t, 4, must[int](t)(pets.Get("hamsters")))

	l := must[*managers.List[*managers.Dict[string, int]]](t)(managers.NewList[*managers.Dict[string, int]](m))
	require.NoError(t, l.Extend(pets, supplies))
	require.NoError(t, must[*managers.Dict[string, int]](t)(l.Get(0)).Set("marmots", 1))
	assert.Equal(t, 1, must[int](t)(pets.Get("marmots")))
	assert.Equal(t, 3, must[int](t)(must[*managers.Dict[string, int]](t)(l.Get(-1)).Get("feed")))
}

func TestNestedQueue(t *testing.T) {
	t.Parallel()
	m := newManager(t)
	a := must[*managers.List[*managers.Queue[int]]](t)(managers.NewList[*managers.Queue[int]](m))
	require.NoError(t, a.Append(must[*managers.Queue[int]](t)(managers.NewQueue[int](m, 0))))
	require.NoError(t, must[*managers.Queue[int]](t)(a.Get(0)).Put(123))
	assert.Equal(t, 123, must[int](t)(must[*managers.Queue[int]](t)(a.Get(0)).Get()))
	b := must[*managers.Dict[int, *managers.Queue[int]]](t)(managers.NewDict[int, *managers.Queue[int]](m))
	require.NoError(t, b.Set(0, must[*managers.Queue[int]](t)(managers.NewQueue[int](m, 0))))
	require.NoError(t, must[*managers.Queue[int]](t)(b.Get(0)).Put(456))
	assert.Equal(t, 456, must[int](t)(must[*managers.Queue[int]](t)(b.Get(0)).Get()))
}

func TestNamespace(t *testing.T) {
	t.Parallel()
	m := newManager(t)
	n := must[*managers.Namespace](t)(managers.NewNamespace(m))
	require.NoError(t, n.Set("name", "Bob"))
	require.NoError(t, n.Set("job", "Builder"))
	assert.Equal(t, "Bob", must[string](t)(managers.Attr[string](n, "name")))
	assert.Equal(t, "Builder", must[string](t)(managers.Attr[string](n, "job")))
	require.NoError(t, n.Delete("job"))
	assert.Equal(t, []string{"name"}, must[[]string](t)(n.Names()))
	assert.True(t, must[bool](t)(n.Has("name")))
	assert.False(t, must[bool](t)(n.Has("job")))
	_, err := managers.Attr[string](n, "job")
	assert.ErrorIs(t, err, managers.ErrKeyNotFound)
	assert.ErrorIs(t, n.Delete("job"), managers.ErrKeyNotFound)
}

// TestReplyTooLarge: a reply over the connection's maximum (Items of a
// dict of more than 64 MiB) is an error wrapping mp.ErrMessageTooLarge,
// and the connection, and the session, go on.
func TestReplyTooLarge(t *testing.T) {
	t.Parallel()
	if underWine() {
		t.Skip("200 MB of messages take minutes under Wine; the native run covers it")
	}
	m := newManager(t)
	d := must[*managers.Dict[int, []byte]](t)(managers.NewDict[int, []byte](m))
	big := make([]byte, mp.DefaultMaxMessage/2+1)
	require.NoError(t, d.Set(1, big))
	require.NoError(t, d.Set(2, big))
	_, err := d.Values()
	assert.ErrorIs(t, err, mp.ErrMessageTooLarge)
	assert.ErrorIs(t, d.Set(3, make([]byte, mp.DefaultMaxMessage)), mp.ErrMessageTooLarge, "refused before it is sent")
	require.NoError(t, d.Delete(2))
	assert.Equal(t, 1, must[int](t)(d.Len()))
	assert.Len(t, must[[]byte](t)(d.Get(1)), len(big))
}
