package mp_test

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
)

// The port of CPython's _test_multiprocessing case _TestSharedMemory,
// with children under each start method (the leak tests are in
// sharedmemory_death_test.go).

func init() {
	ipcTargets = append(ipcTargets, attachThenWrite, writeShared, createShared, sendShared, treeRoots)
}

func newShared(t *testing.T, name string, size int) *mp.SharedMemory {
	t.Helper()
	m, err := mp.NewSharedMemory(name, size)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = m.Unlink()
		_ = m.Close()
	})
	return m
}

// --- _TestSharedMemory

// attachThenWrite is _attach_existing_shmem_then_write, with a name.
func attachThenWrite(name string, data []byte) error {
	m, err := mp.OpenSharedMemory(name)
	if err != nil {
		return err
	}
	copy(m.Buf(), data)
	return m.Close()
}

// writeShared is the same with the object.
func writeShared(m *mp.SharedMemory, data []byte) error {
	copy(m.Buf(), data)
	return m.Close()
}

func TestSharedMemoryBasics(t *testing.T) {
	t.Parallel()
	name := fmt.Sprintf("test01_tsmb%d", mp.CurrentProcess().PID())
	sms := newShared(t, name, 512)
	assert.Equal(t, name, sms.Name())
	assert.GreaterOrEqual(t, sms.Size(), 512)
	assert.GreaterOrEqual(t, len(sms.Buf()), sms.Size())
	assert.Contains(t, sms.String(), sms.Name())
	assert.Contains(t, sms.String(), fmt.Sprint(sms.Size()))

	sms.Buf()[0] = 42
	assert.Equal(t, byte(42), sms.Buf()[0])

	also, err := mp.OpenSharedMemory(name)
	require.NoError(t, err)
	assert.Equal(t, byte(42), also.Buf()[0])
	require.NoError(t, also.Close())

	_, err = mp.NewSharedMemory("", -2)
	assert.ErrorIs(t, err, mp.ErrBadSize)
	_, err = mp.NewSharedMemory("", 0)
	assert.ErrorIs(t, err, mp.ErrBadSize)
	_, err = mp.OpenSharedMemory("")
	assert.ErrorIs(t, err, mp.ErrBadName, "attaching without a name")

	_, err = mp.NewSharedMemory(name, 512)
	assert.ErrorIs(t, err, fs.ErrExist, "there can only be one")
	_, err = mp.OpenSharedMemory("test01_notthere")
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.True(t, strings.HasPrefix(err.Error(), "mp: "), err)

	// A unique name when none is given.
	anon := newShared(t, "", 1)
	assert.NotEmpty(t, anon.Name())
	assert.NotEqual(t, anon.Name(), newShared(t, "", 1).Name())
	assert.Equal(t, "/"+anon.Name(), "/"+strings.TrimPrefix(anon.Name(), "/"))

	require.NoError(t, sms.Close())
	assert.Nil(t, sms.Buf())
	require.NoError(t, sms.Close(), "a second Close")
}

func TestSharedMemoryDoubleUnlink(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("Windows: a name lasts while the mapping is open and Unlink only checks it (Python's test is POSIX-only too)")
	}
	name := fmt.Sprintf("test01_dblunlink%d", mp.CurrentProcess().PID())
	uno, err := mp.NewSharedMemory(name, 5000)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, uno.Size(), 5000)
	duo, err := mp.OpenSharedMemory(name)
	require.NoError(t, err)
	require.NoError(t, duo.Unlink())
	require.NoError(t, duo.Close())
	require.NoError(t, uno.Close())
	assert.ErrorIs(t, uno.Unlink(), fs.ErrNotExist, "a second unlink")
}

// test_shared_memory_pickle_unpickle, and _dead_object.
func TestSharedMemoryEncoding(t *testing.T) {
	t.Parallel()
	sms := newShared(t, "", 512)
	copy(sms.Buf(), "pickle")
	b, err := sms.MarshalBinary()
	require.NoError(t, err)
	var sms2 mp.SharedMemory
	require.NoError(t, sms2.UnmarshalBinary(b))
	defer sms2.Close()
	assert.Equal(t, sms.Name(), sms2.Name())
	assert.Equal(t, "pickle", string(sms2.Buf()[:6]))
	copy(sms.Buf(), "newval")
	assert.Equal(t, "newval", string(sms2.Buf()[:6]))
	copy(sms2.Buf(), "oldval")
	assert.Equal(t, "oldval", string(sms.Buf()[:6]))

	dead, err := mp.NewSharedMemory("", 512)
	require.NoError(t, err)
	b, err = dead.MarshalBinary()
	require.NoError(t, err)
	require.NoError(t, dead.Unlink())
	require.NoError(t, dead.Close())
	var sms3 mp.SharedMemory
	// (On Windows the name went with its last handle, at Close.)
	assert.ErrorIs(t, sms3.UnmarshalBinary(b), fs.ErrNotExist)
	assert.ErrorIs(t, (&mp.SharedMemory{}).UnmarshalBinary([]byte{9, 'x'}), mp.ErrBadMessage)
}

// test_shared_memory_across_processes: by name and by object, and
// through a Queue.
func TestSharedMemoryAcrossProcesses(t *testing.T) {
	eachMethod(t, func(t *testing.T, m mp.StartMethod) {
		sms := newShared(t, "", 512)
		require.NoError(t, startIn(t, m, attachThenWrite, sms.Name(), []byte("howdy")).Join())
		assert.Equal(t, "howdy", string(sms.Buf()[:5]))
		require.NoError(t, startIn(t, m, writeShared, sms, []byte("HELLO")).Join())
		assert.Equal(t, "HELLO", string(sms.Buf()[:5]))
	})
}

// createShared creates a block, writes its name into it, sends it on q,
// and returns, leaving the name to the tree.
func createShared(q *mp.Queue) error {
	m, err := mp.NewSharedMemory("", 64)
	if err != nil {
		return err
	}
	copy(m.Buf(), m.Name())
	if err := q.Put(m); err != nil {
		return err
	}
	return m.Close()
}

// sendShared sends m back on q.
func sendShared(m *mp.SharedMemory, q *mp.Queue) error { return q.Put(m) }

// TestSharedMemoryOutlivesCreator: a block that a child made is there
// after the child has ended, for its parent (Python's resource tracker in
// the child would have removed it, or warned).
func TestSharedMemoryOutlivesCreator(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows removes a mapping's name with its last handle: the creator's, here (Python's behaviour there)")
	}
	eachMethod(t, func(t *testing.T, m mp.StartMethod) {
		q := newQueue(t, 0)
		p := startIn(t, m, createShared, q)
		var got mp.SharedMemory
		require.NoError(t, q.Get(&got))
		require.NoError(t, p.Join())
		assert.Equal(t, got.Name(), string(got.Buf()[:len(got.Name())]))
		again, err := mp.OpenSharedMemory(got.Name())
		require.NoError(t, err, "the name outlives its creator while the tree lives")
		require.NoError(t, again.Close())
		require.NoError(t, got.Unlink())
		require.NoError(t, got.Close())

		// And a block sent back from a child is the same block.
		sms := newShared(t, "", 16)
		require.NoError(t, startIn(t, m, sendShared, sms, q).Join())
		var back mp.SharedMemory
		require.NoError(t, q.Get(&back))
		back.Buf()[0] = 9
		assert.Equal(t, byte(9), sms.Buf()[0])
		require.NoError(t, back.Close())
	})
}

// treeRoots puts the root of this process's tree (whose names its shared
// memory belongs to) on q, then, depth times more, has a child started
// under method do the same. Under Forkserver it has a child wait first,
// and checks that the Start took it, so that a child started ahead of
// time is tested, not only a cold start.
func treeRoots(method string, depth int, q *mp.Queue) error {
	if err := q.Put(mp.ShmTreeRoot()); err != nil {
		return err
	}
	if depth == 0 {
		return nil
	}
	m := mp.StartMethod(method)
	var waiting []int
	if m == mp.Forkserver {
		if err := mp.SetForkserverPreload(1); err != nil {
			return err
		}
		waiting, _ = mp.ForkserverIdle()
	}
	p := mp.NewProcess(treeRoots, method, depth-1, q)
	p.StartMethod = m
	if err := p.Start(); err != nil {
		return err
	}
	if m == mp.Forkserver && !slices.Contains(waiting, p.PID()) {
		_ = p.Kill()
		_ = p.Join()
		return fmt.Errorf("pid %d is not one of the children that waited, %v", p.PID(), waiting)
	}
	return p.Join()
}

// TestSharedMemoryTreeOfChildren: children and their children, under each
// start method (Forkserver's children that were started ahead of time
// included), belong to their starter's tree, so that a name that one of
// them creates lives while the tree does (a child of a tree of its own
// would have its names removed when it ended).
func TestSharedMemoryTreeOfChildren(t *testing.T) {
	eachMethod(t, func(t *testing.T, m mp.StartMethod) {
		q := newQueue(t, 0)
		p := startIn(t, m, treeRoots, string(m), 2, q)
		// The child's error, if one fails, says more than a missing root.
		require.NoError(t, p.Join())
		for i := range 3 {
			var root uint64
			require.NoError(t, q.GetTimeout(&root, time.Minute), "generation %d", i+1)
			assert.Equal(t, mp.ShmTreeRoot(), root, "generation %d", i+1)
		}
	})
}

func TestSharedMemoryPersistError(t *testing.T) {
	t.Parallel()
	sms := newShared(t, "", 16)
	err := sms.Persist()
	if runtime.GOOS == "windows" {
		assert.True(t, errors.Is(err, errors.ErrUnsupported))
		return
	}
	require.NoError(t, err)
}
