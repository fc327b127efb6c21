package ready_test

import (
	"context"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-mp/mp/internal/ready"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pair is a reader and a writer of one kind of descriptor.
type pair struct {
	r interface {
		io.ReadCloser
		syscall.Conn
	}
	w io.WriteCloser
}

func pipePair(t *testing.T) pair {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() { r.Close(); w.Close() })
	return pair{r, w}
}

func tcpPair(t *testing.T) pair {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	w, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	r, err := ln.Accept()
	require.NoError(t, err)
	t.Cleanup(func() { r.Close(); w.Close() })
	return pair{r.(*net.TCPConn), w}
}

var kinds = map[string]func(*testing.T) pair{"pipe": pipePair, "tcp": tcpPair}

func rawConn(t *testing.T, c syscall.Conn) syscall.RawConn {
	t.Helper()
	rc, err := c.SyscallConn()
	require.NoError(t, err)
	return rc
}

func TestNowAndWait(t *testing.T) {
	t.Parallel()
	for name, mk := range kinds {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := mk(t)
			rc := rawConn(t, p.r)

			ok, err := ready.Now(rc)
			require.NoError(t, err)
			assert.False(t, ok, "empty")

			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			t0 := time.Now()
			ok, err = ready.Wait(ctx, rc)
			assert.False(t, ok)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.GreaterOrEqual(t, time.Since(t0), 100*time.Millisecond, "returned before its deadline")

			// A wait in progress wakes when bytes come.
			done := make(chan error, 1)
			go func() {
				ok, err := ready.Wait(context.Background(), rc)
				if err == nil && !ok {
					err = io.ErrNoProgress
				}
				done <- err
			}()
			_, err = p.w.Write([]byte("x"))
			require.NoError(t, err)
			require.NoError(t, <-done)

			for range 2 { // nothing was read
				ok, err = ready.Now(rc)
				require.NoError(t, err)
				assert.True(t, ok)
				ok, err = ready.Wait(context.Background(), rc)
				require.NoError(t, err)
				assert.True(t, ok)
			}
			b := make([]byte, 2)
			n, err := p.r.Read(b)
			require.NoError(t, err)
			assert.Equal(t, "x", string(b[:n]))

			// End of file is readable.
			require.NoError(t, p.w.Close())
			ok, err = ready.Wait(context.Background(), rc)
			require.NoError(t, err)
			assert.True(t, ok, "end of file")
		})
	}
}

// TestCancel: cancelling the context ends a wait at once.
func TestCancel(t *testing.T) {
	t.Parallel()
	for name, mk := range kinds {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := mk(t)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := ready.Wait(ctx, rawConn(t, p.r))
				done <- err
			}()
			cancel()
			select {
			case err := <-done:
				assert.ErrorIs(t, err, context.Canceled)
			case <-time.After(10 * time.Second):
				t.Fatal("Wait did not end when its context was cancelled")
			}
			ok, err := ready.Wait(ctx, rawConn(t, p.r))
			assert.False(t, ok)
			assert.ErrorIs(t, err, context.Canceled, "a done context, before any wait")
		})
	}
}

// TestReadUndisturbed: waits with short timeouts, hundreds of them, while
// another goroutine is blocked reading the same descriptor without a
// deadline, neither end that read nor take its bytes.
func TestReadUndisturbed(t *testing.T) {
	t.Parallel()
	for name, mk := range kinds {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := mk(t)
			rc := rawConn(t, p.r)
			type result struct {
				b   []byte
				err error
			}
			read := make(chan result, 1)
			go func() {
				b := make([]byte, 5)
				_, err := io.ReadFull(p.r, b)
				read <- result{b, err}
			}()
			for range 200 {
				ctx, cancel := context.WithTimeout(context.Background(), 100*time.Microsecond)
				_, err := ready.Wait(ctx, rc)
				cancel()
				require.ErrorIs(t, err, context.DeadlineExceeded)
			}
			select {
			case r := <-read:
				t.Fatalf("the read ended during the waits: %q, %v", r.b, r.err)
			default:
			}
			_, err := p.w.Write([]byte("hello"))
			require.NoError(t, err)
			r := <-read
			require.NoError(t, r.err)
			assert.Equal(t, "hello", string(r.b))
		})
	}
}
