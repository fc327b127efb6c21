package mp_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-mp/mp"
)

// TestNoLeaks runs 210 start/join cycles, under each method in turn, and
// checks that no descriptor, goroutine or zombie is left once the children
// that wait for work under Forkserver have been ended too. It counts them,
// so it does not run in parallel with other tests.
func TestNoLeaks(t *testing.T) {
	mp.StopForkserver()
	before := countFDs(t)
	ignore := goleak.IgnoreCurrent()
	methods := mp.AllStartMethods()
	for i := range 210 {
		p := newProcess(methods[i%len(methods)], noop)
		require.NoError(t, p.Start())
		require.NoError(t, p.Join())
		require.NoError(t, p.Close())
	}
	mp.StopForkserver()
	goleak.VerifyNone(t, ignore)
	assert.Equal(t, before, countFDs(t), "open descriptors")

	assert.Empty(t, zombies(t), "zombie children")
	assert.Empty(t, mp.ActiveChildren())
}
