package mp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestValueDecodeChecks: a process that decodes a Value or Array checks
// the element type and kind in its shared memory against what it expects,
// and decodes only what it holds.
func TestValueDecodeChecks(t *testing.T) {
	t.Parallel()
	v, err := NewValue(int64(7))
	require.NoError(t, err)
	defer v.Close()
	a, err := NewArray[int32](3)
	require.NoError(t, err)
	defer a.Close()
	vb, err := v.MarshalBinary()
	require.NoError(t, err)
	ab, err := a.MarshalBinary()
	require.NoError(t, err)

	// This process holds both, so decoding finds its own mappings.
	var same Value[int64]
	require.NoError(t, same.UnmarshalBinary(vb))
	assert.Equal(t, int64(7), same.Load())
	assert.Same(t, v.GetLock().lockCore(), same.GetLock().lockCore(), "one lock")
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

	// Another object's identity, that no one passed here.
	other := append([]byte(nil), vb...)
	other[3] ^= 0xff    // in the object's identity
	other[3+16] ^= 0xff // in its Set's
	var notHeld Value[int64]
	assert.ErrorIs(t, notHeld.UnmarshalBinary(other), ErrNotPassable)
}
