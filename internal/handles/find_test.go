package handles_test

import (
	"os"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp/internal/handles"
)

// thing is a passable value for these tests.
type thing struct{ set *handles.Set }

var finder = &handles.Finder{
	Is: func(t reflect.Type) bool { return t == reflect.TypeFor[*thing]() },
	Get: func(v reflect.Value) (*handles.Set, error) {
		return v.Interface().(*thing).set, nil
	},
}

func newThing(t *testing.T) *thing {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() { r.Close(); w.Close() })
	return &thing{handles.New(r, w)}
}

type node struct {
	Next  *node
	T     *thing
	M     map[*thing]any
	Any   any
	Slice []any
	Arr   [2]*thing
	priv  *thing // never looked at
}

func TestFind(t *testing.T) {
	t.Parallel()
	a, b, c, d, e, hidden := newThing(t), newThing(t), newThing(t), newThing(t), newThing(t), newThing(t)
	cyc := &node{T: a, priv: hidden}
	cyc.Next = &node{Next: cyc, M: map[*thing]any{b: c}, Any: &node{T: a}, Slice: []any{nil, d, []*thing{e}}}
	cyc.Next.Arr[1] = e
	sets, err := finder.Find(cyc, 42, "x", nil, []int{1, 2})
	require.NoError(t, err)
	assert.ElementsMatch(t, []*handles.Set{a.set, b.set, c.set, d.set, e.set}, sets,
		"each once, keys and values, cycles cut, unexported fields skipped")
	sets, err = finder.Find(b, a, []*thing{b})
	require.NoError(t, err)
	assert.Equal(t, []*handles.Set{b.set, a.set}, sets, "in the order met")

	none, err := finder.Find(make([]byte, 1<<20), map[string]int{"a": 1}, (*node)(nil), (*thing)(nil))
	require.NoError(t, err)
	assert.Empty(t, none)
}

func TestFindTooDeep(t *testing.T) {
	t.Parallel()
	var list *node
	for range handles.MaxDepth {
		list = &node{Next: list}
	}
	_, err := finder.Find(list)
	assert.ErrorIs(t, err, handles.ErrTooDeep)

	short := &node{Next: &node{T: newThing(t)}}
	sets, err := finder.Find(short)
	require.NoError(t, err)
	assert.Len(t, sets, 1)
}

// A type that cannot hold a passable value is not looked into, however
// large or deep.
func TestFindSkips(t *testing.T) {
	type plain struct {
		Next *plain
		N    []int
	}
	var list *plain
	for range 2 * handles.MaxDepth {
		list = &plain{Next: list}
	}
	sets, err := finder.Find(list)
	require.NoError(t, err)
	assert.Empty(t, sets)
	assert.Zero(t, testing.AllocsPerRun(10, func() { _, _ = finder.Find(list) }), "skipped without a walk")
}

func TestLookupAndInstall(t *testing.T) {
	t.Parallel()
	th := newThing(t)
	got, err := handles.Lookup(th.set.ID)
	require.NoError(t, err)
	assert.Same(t, th.set, got)
	_, err = handles.Lookup(handles.ID{1, 2, 3})
	assert.ErrorIs(t, err, handles.ErrNotHeld)

	files, passed := handles.Flatten([]*handles.Set{th.set, newThing(t).set})
	require.Len(t, files, 4)
	passed[0].ID, passed[1].ID = [16]byte{9}, [16]byte{8}
	sets, err := handles.Install(passed, files)
	require.NoError(t, err)
	require.Len(t, sets, 2)
	got, err = handles.Lookup(handles.ID{8})
	require.NoError(t, err)
	assert.Equal(t, files[2:], got.Files)

	_, err = handles.Install(passed, files[:3])
	assert.Error(t, err, "fewer files than announced")
	_, err = handles.Install(passed[:1], files)
	assert.Error(t, err, "more files than announced")
}
