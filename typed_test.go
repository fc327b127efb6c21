package mp_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
)

func init() { ipcTargets = append(ipcTargets, doubleItems) }

// doubleItems gets n items and puts them back with N doubled.
func doubleItems(in, out *mp.TypedQueue[item], n int) error {
	for range n {
		it, err := in.Get()
		if err != nil {
			return err
		}
		it.N *= 2
		if err := out.Put(it); err != nil {
			return err
		}
	}
	return nil
}

func TestTypedQueue(t *testing.T) {
	t.Parallel()
	in, err := mp.NewTypedQueue[item](0)
	require.NoError(t, err)
	t.Cleanup(func() { in.Close() })
	out, err := mp.NewTypedQueue[item](0)
	require.NoError(t, err)
	t.Cleanup(func() { out.Close() })
	for _, m := range mp.AllStartMethods() {
		p := mp.NewProcess(doubleItems, in, out, 3)
		p.StartMethod = m
		start(t, p)
		for i := range 3 {
			require.NoError(t, in.Put(item{i, "x"}))
		}
		for i := range 3 {
			it, err := out.GetTimeout(time.Minute)
			require.NoError(t, err)
			assert.Equal(t, item{2 * i, "x"}, it)
		}
		require.NoError(t, p.Join())
	}
	assert.True(t, in.Queue().Empty())
	_, err = in.GetTimeout(0)
	assert.ErrorIs(t, err, mp.ErrEmpty)

	a, b := pipe(t, true)
	require.NoError(t, a.Send(item{5, "five"}))
	it, err := mp.RecvAs[item](b)
	require.NoError(t, err)
	assert.Equal(t, item{5, "five"}, it)
}
