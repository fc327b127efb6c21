package mp_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-mp/mp"
)

// TestNoLeaks runs 200 start/join cycles and checks that no descriptor,
// goroutine or zombie is left. It counts them, so it does not run in
// parallel with other tests.
func TestNoLeaks(t *testing.T) {
	before := countFDs(t)
	ignore := goleak.IgnoreCurrent()
	for i := range 200 {
		p := mp.NewProcess(noop)
		if i%2 == 1 {
			p.StartMethod = mp.Fork
		}
		require.NoError(t, p.Start())
		require.NoError(t, p.Join())
		require.NoError(t, p.Close())
	}
	goleak.VerifyNone(t, ignore)
	assert.Equal(t, before, countFDs(t), "open descriptors")

	assert.Empty(t, zombies(t), "zombie children")
	assert.Empty(t, mp.ActiveChildren())
}
