package mp_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
)

func init() { targets = append(targets, &Consumer{}, printSelf) }

// Consumer is a Runner, as a Python porter writes class Consumer(Process).
type Consumer struct{ Jobs int }

func (c *Consumer) Run() error {
	fmt.Println(mp.CurrentProcess())
	return nil
}

func printSelf() {
	fmt.Println(mp.CurrentProcess())
	fmt.Println(mp.ParentProcess())
}

// TestRunnerNames checks that a Runner's process is named after its type,
// as Python names a Process subclass (Consumer-1), here and in the child.
func TestRunnerNames(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	p := mp.NewProcess(&Consumer{})
	assert.Regexp(t, `^Consumer-\d+$`, p.Name)
	q := &mp.Process{Target: &boxRunner[int]{}}
	start(t, q)
	assert.Regexp(t, `^boxRunner\[int\]-\d+$`, q.Name, "named at Start")
	p.Stdout = &out
	start(t, p)
	require.NoError(t, p.Join())
	assert.Equal(t, fmt.Sprintf("<Consumer name='%s' pid=%d parent=%d started>\n", p.Name, p.PID(), os.Getpid()), out.String())
	assert.Equal(t, "Process", strings.SplitN(mp.NewProcess(noop).Name, "-", 2)[0])
}

// TestString checks String against the shape of Python's repr in each
// state.
func TestString(t *testing.T) {
	t.Parallel()
	me := os.Getpid()
	p := &mp.Process{Target: sleep, Args: []any{time.Hour}, Name: "worker", Daemon: true}
	assert.Equal(t, fmt.Sprintf("<Process name='worker' parent=%d initial daemon>", me), p.String())
	start(t, p)
	assert.Equal(t, fmt.Sprintf("<Process name='worker' pid=%d parent=%d started daemon>", p.PID(), me), p.String())
	require.NoError(t, p.Terminate())
	_ = p.Join()
	assert.Equal(t, fmt.Sprintf("<Process name='worker' pid=%d parent=%d stopped exitcode=-SIGTERM daemon>", p.PID(), me), p.String())
	require.NoError(t, p.Close())
	assert.Equal(t, fmt.Sprintf("<Process name='worker' parent=%d closed daemon>", me), p.String())

	q := start(t, mp.NewProcess(exitWith, 3))
	_ = q.Join()
	assert.Equal(t, fmt.Sprintf("<Process name='%s' pid=%d parent=%d stopped exitcode=3>", q.Name, q.PID(), me), q.String())
	assert.Equal(t, fmt.Sprintf(`<Process name="it's" parent=%d initial>`, me), (&mp.Process{Name: "it's"}).String())

	assert.Equal(t, fmt.Sprintf("<_MainProcess name='MainProcess' pid=%d parent=None started>", me), mp.CurrentProcess().String())

	var out syncBuffer
	c := mp.NewProcess(printSelf)
	c.Stdout = &out
	start(t, c)
	require.NoError(t, c.Join())
	assert.Equal(t, fmt.Sprintf("<Process name='%s' pid=%d parent=%d started>\n<_ParentProcess name='MainProcess' pid=%d parent=None started>\n",
		c.Name, c.PID(), me, me), out.String())
}
