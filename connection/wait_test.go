package connection_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/connection"
)

// waitThenSend waits for a message on in, sends it back on out and exits.
func waitThenSend(in, out *mp.Conn) error {
	b, err := in.RecvBytes()
	if err != nil {
		return err
	}
	return out.SendBytes(b)
}

func pipe(t *testing.T) (*mp.Conn, *mp.Conn) {
	t.Helper()
	a, b, err := mp.Pipe(true)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestWaitConns(t *testing.T) {
	t.Parallel()
	a1, b1 := pipe(t)
	a2, b2 := pipe(t)
	objects := []any{a1, a2}

	ready, err := connection.Wait(objects, 0)
	require.NoError(t, err)
	assert.Empty(t, ready)

	t0 := time.Now()
	ready, err = connection.Wait(objects, 100*time.Millisecond)
	require.NoError(t, err)
	assert.Empty(t, ready)
	assert.GreaterOrEqual(t, time.Since(t0), 100*time.Millisecond, "returned before its timeout")

	// A wait without limit ends when a message comes.
	got := make(chan []any, 1)
	go func() {
		ready, err := connection.Wait(objects, -1)
		assert.NoError(t, err)
		got <- ready
	}()
	require.NoError(t, b2.SendBytes([]byte("two")))
	assert.Equal(t, []any{a2}, <-got)

	require.NoError(t, b1.SendBytes([]byte("one")))
	ready, err = connection.Wait(objects, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, []any{a1, a2}, ready, "both, in order")

	// Wait takes nothing.
	b, err := a1.RecvBytes()
	require.NoError(t, err)
	assert.Equal(t, "one", string(b))
	ready, err = connection.Wait(objects, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, []any{a2}, ready)
}

// TestWaitProcess: Python's pattern, waiting on the connections and the
// sentinels of children at once.
func TestWaitProcess(t *testing.T) {
	t.Parallel()
	in, inChild := pipe(t)
	out, outChild := pipe(t)
	p := start(t, mp.NewProcess(waitThenSend, inChild, outChild))
	require.NoError(t, inChild.Close())
	require.NoError(t, outChild.Close())

	ready, err := connection.Wait([]any{out, p}, 100*time.Millisecond)
	require.NoError(t, err)
	assert.Empty(t, ready, "the child waits for its message")

	require.NoError(t, in.SendBytes([]byte("go")))
	ready, err = connection.Wait([]any{out, p}, time.Minute)
	require.NoError(t, err)
	require.NotEmpty(t, ready)
	assert.Equal(t, out, ready[0])

	ready, err = connection.Wait([]any{p}, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, []any{p}, ready, "the child exits")
	require.NoError(t, p.Join())
	b, err := out.RecvBytes()
	require.NoError(t, err)
	assert.Equal(t, "go", string(b))
}

func TestWaitChannels(t *testing.T) {
	t.Parallel()
	a, _ := pipe(t)
	ch := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	objects := []any{a, ch, ctx.Done()}

	got := make(chan []any, 1)
	go func() {
		ready, err := connection.Wait(objects, -1)
		assert.NoError(t, err)
		got <- ready
	}()
	cancel()
	assert.Equal(t, []any{ctx.Done()}, <-got)
	close(ch)
	ready, err := connection.Wait(objects, time.Minute)
	require.NoError(t, err)
	assert.Len(t, ready, 2)
	assert.NotContains(t, ready, a)
}

func TestWaitContext(t *testing.T) {
	t.Parallel()
	a, _ := pipe(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		ready, err := connection.WaitContext(ctx, []any{a})
		assert.Empty(t, ready)
		done <- err
	}()
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)

	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	ready, err := connection.WaitContext(ctx, nil)
	assert.Empty(t, ready)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "no objects: waits for the context")
}

// TestWaitClose: closing a Conn that a Wait waits for ends the wait with
// ErrConnClosed.
func TestWaitClose(t *testing.T) {
	t.Parallel()
	a, _ := pipe(t)
	c, _ := pipe(t)
	done := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		_, err := connection.Wait([]any{c, a}, -1)
		done <- err
	})
	require.NoError(t, a.Close())
	select {
	case err := <-done:
		assert.ErrorIs(t, err, mp.ErrConnClosed)
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end the Wait")
	}
	wg.Wait()
}

func TestWaitMisuse(t *testing.T) {
	t.Parallel()
	a, _ := pipe(t)
	for _, objects := range [][]any{{a, 42}, {(*mp.Conn)(nil)}, {(*mp.Process)(nil)}, {make(chan int)}} {
		_, err := connection.Wait(objects, 0)
		require.Error(t, err, "%v", objects)
		assert.Contains(t, err.Error(), "mp: connection.Wait: ")
		_, err = connection.Wait(objects, time.Minute)
		assert.Error(t, err, "%v", objects)
	}
	r, w := pipe(t)
	require.NoError(t, r.Close())
	_, err := connection.Wait([]any{r, w}, time.Minute)
	assert.ErrorIs(t, err, mp.ErrConnClosed)
}
