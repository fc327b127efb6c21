//go:build unix

package handles_test

import (
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/go-mp/mp/internal/handles"
)

// socketpair returns the two ends of a Unix-domain stream socket, as
// package launch makes the boot channel.
func socketpair(t *testing.T) (a, b *os.File) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	require.NoError(t, err)
	for _, fd := range fds {
		unix.CloseOnExec(fd)
		require.NoError(t, unix.SetNonblock(fd, true))
	}
	a, b = os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func nonblocking(t *testing.T, f *os.File) bool {
	t.Helper()
	rc, err := f.SyscallConn()
	require.NoError(t, err)
	var flags int
	require.NoError(t, rc.Control(func(fd uintptr) {
		flags, err = unix.FcntlInt(fd, unix.F_GETFL, 0)
	}))
	require.NoError(t, err)
	return flags&unix.O_NONBLOCK != 0
}

// TestSendReceive passes more pipes than one SCM_RIGHTS message carries,
// and checks that the files arrive in order, work, and have kept their
// non-blocking mode on both sides.
func TestSendReceive(t *testing.T) {
	t.Parallel()
	const n = 600
	a, b := socketpair(t)
	var files []*os.File
	for range n / 2 {
		r, w, err := os.Pipe()
		require.NoError(t, err)
		t.Cleanup(func() { r.Close(); w.Close() })
		files = append(files, r, w)
	}
	sent := make(chan error, 1)
	go func() { sent <- handles.Send(a, files) }()
	require.NoError(t, b.SetReadDeadline(time.Now().Add(10*time.Second)))
	got, err := handles.Receive(b, n)
	require.NoError(t, err)
	require.NoError(t, <-sent)
	require.Len(t, got, n)
	for i := 0; i < n; i += 2 {
		// What is written to the original write end comes out of the
		// passed read end, and the other way round.
		_, err := files[i+1].Write([]byte{byte(i)})
		require.NoError(t, err)
		var buf [1]byte
		_, err = io.ReadFull(got[i], buf[:])
		require.NoError(t, err)
		assert.Equal(t, byte(i), buf[0])
		assert.True(t, nonblocking(t, files[i]), "the original is still non-blocking")
		assert.True(t, nonblocking(t, got[i]), "so is what was passed")
		var fl int
		rc, _ := got[i].SyscallConn()
		_ = rc.Control(func(fd uintptr) { fl, _ = unix.FcntlInt(fd, unix.F_GETFD, 0) })
		assert.NotZero(t, fl&unix.FD_CLOEXEC, "passed descriptors are close-on-exec")
	}
	for _, f := range got {
		f.Close()
	}
}

// TestReceiveFailures: the sender gone early, or a read deadline, end a
// Receive with an error, and nothing received is left open.
func TestReceiveFailures(t *testing.T) {
	t.Parallel()
	a, b := socketpair(t)
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	require.NoError(t, handles.Send(a, []*os.File{r}))
	a.Close()
	_, err = handles.Receive(b, 2)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)

	c, d := socketpair(t)
	_ = c
	require.NoError(t, d.SetReadDeadline(time.Now().Add(50*time.Millisecond)))
	_, err = handles.Receive(d, 1)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)

	_, err = handles.Receive(d, handles.MaxFiles+1)
	assert.Error(t, err)
}
