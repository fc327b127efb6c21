package mp_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
)

// Ports of CPython's _TestConnection cases (Lib/test/_test_multiprocessing.py).

func init() { targets = append(targets, echoUntil) }

// sentinel tells echoUntil to stop, as CPython's SENTINEL does.
const sentinel = "SENTINEL"

// echoUntil is CPython's _TestConnection._echo: it sends back every
// message until the sentinel, then closes its end.
func echoUntil(c *mp.Conn) error {
	defer c.Close()
	for {
		b, err := c.RecvBytes()
		if err != nil {
			return err
		}
		if string(b) == sentinel {
			return nil
		}
		if err := c.SendBytes(b); err != nil {
			return err
		}
	}
}

// TestCPythonConnection is test_connection: values and bytes to a child
// and back, RecvBytesInto, a too-long message carried by the error
// (BufferTooShort's args), Poll with no, negative, short and unlimited
// timeouts, a 16 MiB message, and end of file.
func TestCPythonConnection(t *testing.T) {
	t.Parallel()
	conn, childConn := pipe(t, true)
	p := mp.NewProcess(echoUntil, childConn)
	p.Daemon = true
	start(t, p)

	seq := []any{1, 2.25, nil}
	require.NoError(t, conn.Send(seq))
	var got []any
	require.NoError(t, conn.Recv(&got))
	assert.Equal(t, []any{int64(1), 2.25, nil}, got)

	msg := []byte("hello world")
	longmsg := bytes.Repeat(msg, 10)
	require.NoError(t, conn.SendBytes(msg))
	b, err := conn.RecvBytes()
	require.NoError(t, err)
	assert.Equal(t, msg, b)

	arr := binary.LittleEndian.AppendUint32(nil, 0)
	for i := uint32(1); i < 4; i++ {
		arr = binary.LittleEndian.AppendUint32(arr, i)
	}
	buffer := make([]byte, 40)
	require.NoError(t, conn.SendBytes(arr))
	n, err := conn.RecvBytesInto(buffer[12:])
	require.NoError(t, err)
	assert.Equal(t, len(arr), n)
	assert.Equal(t, append(append(make([]byte, 12), arr...), make([]byte, 40-12-len(arr))...), buffer)

	// A message longer than the buffer is not lost: the error carries it.
	buffer = bytes.Repeat([]byte(" "), 40)
	require.NoError(t, conn.SendBytes(longmsg))
	n, err = conn.RecvBytesInto(buffer)
	require.ErrorIs(t, err, mp.ErrBufferTooShort)
	var short *mp.BufferTooShortError
	require.ErrorAs(t, err, &short)
	assert.Equal(t, longmsg, short.Message)
	assert.Equal(t, 40, short.Buffer)
	assert.Equal(t, len(longmsg), n)
	assert.Equal(t, "mp: buffer too short: a message of 110 bytes for a buffer of 40", err.Error())
	assert.Equal(t, bytes.Repeat([]byte(" "), 40), buffer, "the buffer is left alone")

	for _, timeout := range []time.Duration{0, -1} {
		t0 := time.Now()
		ok, err := conn.Poll(timeout)
		require.NoError(t, err)
		assert.False(t, ok)
		assert.Less(t, time.Since(t0), 10*time.Second, "no wait (generous: the machine may be loaded)")
	}
	t0 := time.Now()
	ok, err := conn.Poll(100 * time.Millisecond)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.GreaterOrEqual(t, time.Since(t0), 100*time.Millisecond)

	// poll(None): Poll(mp.Forever) waits until the echo comes back.
	polled := make(chan bool, 1)
	go func() {
		ok, _ := conn.Poll(mp.Forever)
		polled <- ok
	}()
	select {
	case <-polled:
		t.Fatal("Poll(mp.Forever) returned with nothing to receive")
	case <-time.After(100 * time.Millisecond):
	}
	require.NoError(t, conn.Send(nil))
	assert.True(t, <-polled)
	var none *int
	require.NoError(t, conn.Recv(&none))
	assert.Nil(t, none)

	reallyBig := bytes.Repeat([]byte("X"), 16<<20)
	require.NoError(t, conn.SendBytes(reallyBig))
	b, err = conn.RecvBytes()
	require.NoError(t, err)
	assert.Equal(t, reallyBig, b)

	require.NoError(t, conn.SendBytes([]byte(sentinel)))
	require.NoError(t, childConn.Close())
	assert.True(t, conn.Readable())
	assert.True(t, conn.Writable())
	_, err = conn.RecvBytes()
	assert.Equal(t, io.EOF, err)
	var v int
	assert.Equal(t, io.EOF, conn.Recv(&v))
	require.NoError(t, p.Join())
}

// TestCPythonDuplexFalse is test_duplex_false: a one-way pipe's ends say
// which way they go, and refuse the other.
func TestCPythonDuplexFalse(t *testing.T) {
	t.Parallel()
	reader, writer := pipe(t, false)
	require.NoError(t, writer.Send(1))
	var v int
	require.NoError(t, reader.Recv(&v))
	assert.Equal(t, 1, v)
	assert.True(t, reader.Readable())
	assert.False(t, reader.Writable())
	assert.False(t, writer.Readable())
	assert.True(t, writer.Writable())
	assert.ErrorIs(t, reader.Send(2), mp.ErrWrongEnd)
	assert.ErrorIs(t, writer.Recv(&v), mp.ErrWrongEnd)
	_, err := writer.Poll(0)
	assert.ErrorIs(t, err, mp.ErrWrongEnd)
}

// TestCPythonConnContext is test_context (with a, b: ...): Closed says
// whether a Conn was closed, and a closed Conn refuses to receive.
func TestCPythonConnContext(t *testing.T) {
	t.Parallel()
	a, b := pipe(t, true)
	func() {
		defer a.Close()
		defer b.Close()
		require.NoError(t, a.Send(1729))
		var v int
		require.NoError(t, b.Recv(&v))
		assert.Equal(t, 1729, v)
		assert.False(t, a.Closed())
		assert.False(t, b.Closed())
	}()
	assert.True(t, a.Closed())
	assert.True(t, b.Closed())
	var v int
	assert.ErrorIs(t, a.Recv(&v), mp.ErrConnClosed)
	assert.ErrorIs(t, b.Recv(&v), mp.ErrConnClosed)
	assert.True(t, a.Readable(), "Python's readable does not change at close either")
}

// TestRecvBytesIntoTooLong checks what RecvBytesInto does with a message
// longer than its buffer, for every size around the buffer's, on a pipe
// and on a stream: the error carries the message, the next one is intact.
func TestRecvBytesIntoTooLong(t *testing.T) {
	t.Parallel()
	a, b := tcpConns(t)
	streams := map[string][2]*mp.Conn{"stream": {mp.NewConn(a), mp.NewConn(b)}}
	r, w := pipe(t, false)
	streams["pipe"] = [2]*mp.Conn{r, w}
	for name, ends := range streams {
		t.Run(name, func(t *testing.T) {
			r, w := ends[0], ends[1]
			buf := make([]byte, 64)
			for _, size := range []int{0, 1, 63, 64, 65, 1000, 200 << 10} {
				m := []byte(strings.Repeat("m", size))
				go func() { _ = w.SendBytes(m); _ = w.SendBytes([]byte("next")) }()
				n, err := r.RecvBytesInto(buf)
				assert.Equal(t, size, n)
				var short *mp.BufferTooShortError
				if size > len(buf) {
					require.True(t, errors.As(err, &short), "size %d: %v", size, err)
					assert.Equal(t, m, short.Message)
				} else {
					require.NoError(t, err)
					assert.Equal(t, m, buf[:n])
				}
				got, err := r.RecvBytes()
				require.NoError(t, err)
				assert.Equal(t, "next", string(got))
			}
		})
	}
}
