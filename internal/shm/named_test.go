package shm_test

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp/internal/robust"
	"github.com/go-mp/mp/internal/shm"
	"github.com/go-mp/mp/internal/testchild"
)

func init() {
	// attach opens the segment args[0] by name and writes args[1] at its
	// start.
	helpers["attach"] = func(_ *os.File, args []string) error {
		s, err := shm.Open(args[0], nil)
		if err != nil {
			return err
		}
		copy(s.Bytes(), args[1])
		return s.Close()
	}
}

// rerun runs the test binary again: its TestMain calls shm.CleanupMain.
func rerun() (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return exec.Command(exe), nil
}

func alive(id uint64) bool { return robust.Alive(robust.ID(id)) }

// testTree is the tree whose root is the test process.
var testTree = shm.NewTree(uint64(robust.Self()), rerun)

// create creates a named segment that the test unlinks and closes.
func create(t *testing.T, name string, size int) *shm.Segment {
	t.Helper()
	s, err := shm.Create(name, size, testTree)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = shm.Unlink(s.Name(), testTree)
		_ = s.Close()
	})
	return s
}

func TestNamed(t *testing.T) {
	t.Parallel()
	name := shm.NewName()
	assert.True(t, strings.HasPrefix(name, "mp_"), name)
	s := create(t, "/"+name, 5000)
	assert.Equal(t, name, s.Name(), "the leading slash is dropped")
	assert.Equal(t, 5000, s.Size())
	b := s.Bytes()
	require.Len(t, b, 5000)
	assert.Zero(t, b[0])
	assert.Zero(t, b[4999])
	b[0] = 42

	// Attached by name, here and in another process.
	also, err := shm.Open(name, testTree)
	require.NoError(t, err)
	assert.Equal(t, name, also.Name())
	assert.GreaterOrEqual(t, also.Size(), 5000, "Windows rounds up to pages")
	assert.Equal(t, byte(42), also.Bytes()[0])
	require.NoError(t, also.Close())
	require.NoError(t, testchild.Start(t, "attach", nil, name, "howdy").Wait())
	assert.Equal(t, "howdy", string(b[:5]))

	_, err = shm.Create(name, 512, testTree)
	assert.ErrorIs(t, err, fs.ErrExist)
	assert.True(t, strings.HasPrefix(err.Error(), "mp: "), err)
}

func TestNamedMissing(t *testing.T) {
	t.Parallel()
	name := shm.NewName()
	_, err := shm.Open(name, testTree)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.ErrorIs(t, shm.Unlink(name, testTree), fs.ErrNotExist)
	assert.ErrorIs(t, shm.Persist(name), fs.ErrNotExist)
}

func TestNamedUnlink(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("Windows: a named mapping's name lasts while it is open; Unlink removes nothing")
	}
	name := shm.NewName()
	s, err := shm.Create(name, 5000, testTree)
	require.NoError(t, err)
	defer s.Close()
	s.Bytes()[0] = 7
	other, err := shm.Open(name, testTree)
	require.NoError(t, err)
	defer other.Close()
	require.NoError(t, shm.Unlink(name, testTree))
	assert.ErrorIs(t, shm.Unlink(name, testTree), fs.ErrNotExist, "a second unlink")
	_, err = shm.Open(name, testTree)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	// Those that have it keep it.
	other.Bytes()[1] = 8
	assert.Equal(t, []byte{7, 8}, s.Bytes()[:2])

	// The name can be taken again, by another segment.
	again := create(t, name, 100)
	assert.Zero(t, again.Bytes()[0])
}

func TestNamedBadArguments(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "/", "a/b", "//a", "a\x00b", ".", "..", ".mp-tree-1", strings.Repeat("x", 256)} {
		_, err := shm.Create(name, 10, testTree)
		assert.ErrorIs(t, err, shm.ErrBadName, "%q", name)
		_, err = shm.Open(name, testTree)
		assert.ErrorIs(t, err, shm.ErrBadName, "%q", name)
		assert.ErrorIs(t, shm.Unlink(name, testTree), shm.ErrBadName, "%q", name)
	}
	sizes := []int{0, -1}
	if strconv.IntSize == 64 {
		big := int64(shm.MaxSize) + 1
		sizes = append(sizes, int(big))
	}
	for _, size := range sizes {
		_, err := shm.Create(shm.NewName(), size, testTree)
		assert.Error(t, err, size)
	}
	_, err := shm.CheckName(strings.Repeat("x", 255))
	assert.NoError(t, err)
	if runtime.GOOS != "windows" {
		_, err = shm.Create(shm.NewName(), 10, nil)
		assert.Error(t, err, "no tree")
	}
}

func TestNamedPersistWindows(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "windows" {
		t.Skip("Persist is supported here; see TestTreePersist")
	}
	s := create(t, shm.NewName(), 10)
	assert.True(t, errors.Is(shm.Persist(s.Name()), errors.ErrUnsupported))
}
