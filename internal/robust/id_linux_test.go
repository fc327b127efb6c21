package robust

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseStat(t *testing.T) {
	t.Parallel()
	line := "1234 (a (weird) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10\n"
	id, running, err := parseStat(1234, []byte(line))
	require.NoError(t, err)
	assert.True(t, running)
	assert.Equal(t, makeID(1234, 987654), id)
	assert.Equal(t, 1234, id.PID())
	for _, state := range []string{"Z", "X"} {
		_, running, err = parseStat(1234, []byte("1234 (x) "+state+" 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10"))
		require.NoError(t, err)
		assert.False(t, running, state)
	}
	for _, bad := range []string{"", "1234 x S", "1234 (x) S 1 2", "1234 (x) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 nope"} {
		_, _, err = parseStat(1, []byte(bad))
		assert.Error(t, err, bad)
	}
}
