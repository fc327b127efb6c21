//go:build unix

package mp

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestValueDecodeChecks: a child that decodes a Value or Array checks
// the element type and kind in its shared memory against what it
// expects.
func TestValueDecodeChecks(t *testing.T) {
	t.Parallel()
	v, err := NewValue(int64(7))
	require.NoError(t, err)
	defer v.Close()
	a, err := NewArray[int32](3)
	require.NoError(t, err)
	defer a.Close()
	var vb, ab []byte
	files, err := collectFiles(func() error {
		var err error
		if vb, err = v.MarshalBinary(); err != nil {
			return err
		}
		ab, err = a.MarshalBinary()
		return err
	})
	require.NoError(t, err)
	// As a child would, with copies of the files (this test process is
	// no child, and inherits nothing else).
	var hs []uint64
	for _, f := range files {
		fd, err := syscall.Dup(int(f.Fd()))
		require.NoError(t, err)
		hs = append(hs, uint64(fd))
	}
	inheritFiles(hs)

	// This process holds both, so decoding finds its own mappings.
	var same Value[int64]
	require.NoError(t, same.UnmarshalBinary(vb))
	assert.Equal(t, int64(7), same.Load())
	var sameA Array[int32]
	require.NoError(t, sameA.UnmarshalBinary(ab))
	assert.Equal(t, 3, sameA.Len())

	var wrongType Value[int32]
	assert.ErrorIs(t, wrongType.UnmarshalBinary(vb), ErrBadMessage)
	var float Value[float64]
	assert.ErrorIs(t, float.UnmarshalBinary(vb), ErrBadMessage, "same size, another kind")
	var notArray Array[int64]
	assert.ErrorIs(t, notArray.UnmarshalBinary(vb), ErrBadMessage)
	var notValue Value[int32]
	assert.ErrorIs(t, notValue.UnmarshalBinary(ab), ErrBadMessage)
	var raw RawValue[int64]
	assert.ErrorIs(t, raw.UnmarshalBinary(vb), ErrBadMessage, "a Value's lock is trailing bytes to a RawValue")
	for n := range len(vb) {
		var cut Value[int64]
		assert.Error(t, cut.UnmarshalBinary(vb[:n]), "cut at %d", n)
	}
}
