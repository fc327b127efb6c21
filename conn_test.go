package mp_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/internal/conntest"
)

// TestPollDuringRecv: Poll with short timeouts in several goroutines while
// another receives large messages neither breaks a receive nor waits
// behind it.
func TestPollDuringRecv(t *testing.T) {
	t.Parallel()
	a, b := pipe(t, true)
	conntest.PollDuringRecv(t, a, b, 40)
}

// TestPollWhileRecvBlocked: Poll returns by its timeout while a receive
// waits, and leaves that receive alone.
func TestPollWhileRecvBlocked(t *testing.T) {
	t.Parallel()
	a, b := pipe(t, true)
	conntest.PollWhileRecvBlocked(t, a, b)
}

// tcpConns returns the two ends of a loopback TCP connection, closed when
// the test ends.
func tcpConns(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	a, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	b, err := ln.Accept()
	require.NoError(t, err)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestNewConn(t *testing.T) {
	t.Parallel()
	a, b := tcpConns(t)
	ca, cb := mp.NewConn(a), mp.NewConn(b)
	require.NoError(t, ca.Send(item{1, "one"}))
	var it item
	require.NoError(t, cb.Recv(&it))
	assert.Equal(t, item{1, "one"}, it)
	assert.ErrorIs(t, ca.Send(cb), mp.ErrNotPassable, "a Conn over a stream stays in its process")

	require.NoError(t, ca.Close())
	_, err := a.Write([]byte{0})
	assert.Error(t, err, "Close closes the stream")
	_, err = cb.RecvBytes()
	assert.ErrorIs(t, err, io.EOF)
	assert.ErrorIs(t, ca.SendBytes(nil), mp.ErrConnClosed)

	// A stream without a descriptor cannot be polled.
	p1, p2 := net.Pipe()
	defer p2.Close()
	c := mp.NewConn(p1)
	defer c.Close()
	_, err = c.Poll(0)
	assert.ErrorIs(t, err, errors.ErrUnsupported)
	assert.True(t, strings.HasPrefix(err.Error(), "mp: "), err.Error())

	assert.PanicsWithValue(t, "mp: NewConn(nil)", func() { mp.NewConn(nil) })
}

// TestReadAhead: a Conn over a stream reads ahead; what it read ahead
// counts as waiting for Poll, and a Poll waiting in another goroutine when
// a receive reads the bytes ahead wakes. Which of the two sees the bytes
// first is up to the scheduler: the scene is played 500 times.
func TestReadAhead(t *testing.T) {
	t.Parallel()
	raw, b := tcpConns(t)
	c := mp.NewConn(b)
	type result struct {
		b   []byte
		err error
	}
	for i := range 500 {
		// A receive and a Poll wait for a stream that has nothing; then
		// two messages come in one write.
		first, second := fmt.Appendf(nil, "first %d", i), fmt.Appendf(nil, "second %d", i)
		got := make(chan result, 1)
		go func() {
			b, err := c.RecvBytes()
			got <- result{b, err}
		}()
		polled := make(chan result, 1)
		go func() {
			ok, err := c.Poll(time.Minute)
			polled <- result{[]byte(fmt.Sprint(ok)), err}
		}()
		_, err := raw.Write(conntestFrames(first, second))
		require.NoError(t, err)
		r := <-got
		require.NoError(t, r.err)
		require.Equal(t, first, r.b)
		select {
		case r := <-polled:
			require.NoError(t, r.err)
			require.Equal(t, "true", string(r.b))
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: a Poll waiting as the receive read ahead did not wake", i)
		}

		// The second message was read ahead (the socket may hold nothing
		// now), and Poll sees it.
		for _, d := range []time.Duration{0, time.Minute} {
			ok, err := c.Poll(d)
			require.NoError(t, err)
			require.True(t, ok, "Poll(%v) after a receive that read ahead", d)
		}
		b2, err := c.RecvBytes()
		require.NoError(t, err)
		require.Equal(t, second, b2)
		ok, err := c.Poll(0)
		require.NoError(t, err)
		require.False(t, ok, "nothing left")
	}
}

// conntestFrames encodes messages as frames, as a peer sends them.
func conntestFrames(msgs ...[]byte) []byte {
	var out []byte
	for _, m := range msgs {
		out = binary.BigEndian.AppendUint32(out, uint32(len(m)))
		out = append(out, m...)
	}
	return out
}

// TestPollContext: PollContext returns the context's error when it ends,
// and ErrConnClosed when another goroutine closes the Conn.
func TestPollContext(t *testing.T) {
	t.Parallel()
	a, _ := pipe(t, true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := a.PollContext(ctx)
		done <- err
	}()
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)

	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	ok, err := a.PollContext(ctx)
	assert.False(t, ok)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	go func() {
		_, err := a.PollContext(context.Background())
		done <- err
	}()
	require.NoError(t, a.Close())
	select {
	case err := <-done:
		assert.ErrorIs(t, err, mp.ErrConnClosed)
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not wake PollContext")
	}
}
