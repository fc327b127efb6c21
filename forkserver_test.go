package mp_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
)

func TestForkserverTakesAWaitingChild(t *testing.T) {
	require.NoError(t, mp.SetForkserverPreload(2))
	pids, ready := mp.ForkserverIdle()
	require.Len(t, pids, 2)
	require.Equal(t, 2, ready)
	var out syncBuffer
	p := mp.NewProcess(speak)
	p.StartMethod = mp.Forkserver
	p.Stdout = &out
	start(t, p)
	assert.Contains(t, pids, p.PID(), "a waiting child runs it")
	require.NoError(t, p.Join())
	assert.Equal(t, "to stdout\n", out.String())
	assert.True(t, mp.WaitForkserver(10*time.Second, func(pids []int, ready int) bool { return ready == 2 }))
}
