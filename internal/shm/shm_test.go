package shm_test

import (
	"os"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-mp/mp/internal/shm"
	"github.com/go-mp/mp/internal/testchild"
)

const size = 3<<20 + 5 // not a whole number of pages

var helpers = map[string]func(*os.File, []string) error{
	// fill attaches, checks the parent's mark and writes its own.
	"fill": func(f *os.File, _ []string) error {
		s, err := shm.Attach(f, size)
		if err != nil {
			return err
		}
		b := s.Bytes()
		if b[0] != 1 || b[size-1] != 2 {
			return os.ErrInvalid
		}
		for i := range b {
			b[i] = byte(i)
		}
		return s.Close()
	},
}

func TestMain(m *testing.M) {
	shm.CleanupMain(alive)
	testchild.Main(helpers)
	goleak.VerifyTestMain(m)
}

func TestSegment(t *testing.T) {
	t.Parallel()
	s, err := shm.New(size)
	require.NoError(t, err)
	b := s.Bytes()
	require.Len(t, b, size)
	assert.Equal(t, size, s.Size())
	for _, i := range []int{0, 4096, size - 1} {
		assert.Zero(t, b[i])
	}
	b[0], b[size-1] = 1, 2
	require.NotNil(t, s.File())

	cmd := testchild.Start(t, "fill", s.File())
	require.NoError(t, cmd.Wait())
	for _, i := range []int{0, 1, 4095, 4096, size - 1} {
		assert.Equal(t, byte(i), b[i], "byte %d written by the child", i)
	}

	require.NoError(t, s.Close())
	assert.ErrorIs(t, s.Close(), shm.ErrClosed)
	assert.Nil(t, s.Bytes())
	assert.Nil(t, s.File())
}

func TestBadSizes(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, -1, shm.MaxSize + 1} {
		_, err := shm.New(n)
		assert.Error(t, err, n)
	}
	s, err := shm.New(4096)
	require.NoError(t, err)
	defer s.Close()
	_, err = shm.Attach(nil, 4096)
	assert.Error(t, err)
	_, err = shm.Attach(s.File(), 0)
	assert.Error(t, err)
	if runtime.GOOS != "windows" {
		// Windows cannot read a section's size; MapViewOfFile refuses.
		_, err = shm.Attach(s.File(), 8192)
		assert.Error(t, err, "a file smaller than the segment")
	}
}

func TestCloseFile(t *testing.T) {
	t.Parallel()
	s, err := shm.New(4096)
	require.NoError(t, err)
	s.Bytes()[0] = 1
	require.NoError(t, s.CloseFile())
	assert.Nil(t, s.File())
	assert.ErrorIs(t, s.CloseFile(), shm.ErrClosed)
	assert.Equal(t, byte(1), s.Bytes()[0], "still mapped")
	require.NoError(t, s.Close())
	assert.ErrorIs(t, s.Close(), shm.ErrClosed)
	assert.ErrorIs(t, s.CloseFile(), shm.ErrClosed)
}

func TestDetach(t *testing.T) {
	t.Parallel()
	s, err := shm.New(4096)
	require.NoError(t, err)
	defer s.Close()
	s.Bytes()[0] = 7
	a, err := shm.Attach(s.File(), 4096)
	require.NoError(t, err)
	f, err := a.Detach()
	require.NoError(t, err)
	assert.Same(t, s.File(), f, "the file comes back")
	_, err = a.Detach()
	assert.ErrorIs(t, err, shm.ErrClosed)
	b, err := shm.Attach(f, 4096) // still open
	require.NoError(t, err)
	assert.Equal(t, byte(7), b.Bytes()[0])
	_, err = b.Detach()
	require.NoError(t, err)
}
