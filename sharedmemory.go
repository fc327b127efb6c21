package mp

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/go-mp/mp/internal/robust"
	"github.com/go-mp/mp/internal/shm"
	"github.com/go-mp/mp/spawn"
)

// SharedMemory is a block of memory that processes share by its name,
// like Python's multiprocessing.shared_memory.SharedMemory: one process
// creates it with NewSharedMemory, others open it with OpenSharedMemory,
// in this program's tree of processes or in any other program, Python's
// included, and all of them read and write the same bytes through Buf.
//
// # Names and lifetime
//
// A name is a POSIX shared memory name, without the leading slash (which
// is accepted and dropped): the file /dev/shm/NAME on Linux, which
// Python's SharedMemory(NAME) and C's shm_open("/NAME") open; on Windows a
// named file mapping, as Python's. (macOS and FreeBSD: a file NAME in
// /tmp/mp-shm-UID, since shm_open cannot be called there without cgo;
// other mp programs open it by name, other programs as a file to map.)
//
// Python's resource tracker removes a name when the process that
// registered it ends, even while other processes still use it, and
// misses the names of a tree killed with SIGKILL. Here a name that a
// process of this program's tree creates (the tree: the program's first
// process and the children it starts, and theirs) is removed:
//
//   - by Unlink, at once;
//   - otherwise once the tree has ended, within about 0.2 s, whatever
//     ended it (SIGKILL of every process included), by a cleanup process
//     that the first NewSharedMemory of the tree starts: the program run
//     again, in a session of its own, which waits for the tree's first
//     process to die, then for every process of the tree that created or
//     opened a segment, removes the names that still lead to the tree's
//     segments, and exits. It prints nothing;
//   - never while the tree's first process, or a process of the tree that
//     created or opened the segment, is alive; never if the program asked
//     for it to stay with Persist.
//
// A process that opens a segment of another tree, or a segment that
// another program made, never removes its name (Python's does, gh-82300).
// Other programs that have the segment open when its tree ends keep their
// mapping, but the name is gone. On Windows the system itself keeps a name
// while any process has the segment open and removes it with the last
// one: there is no cleanup process, Unlink does nothing, and Persist is
// not possible; a process that creates a block for another must keep it
// open until the other has opened it (as in Python).
//
// A SharedMemory is given to a child as an argument of a Process or a
// field of a Runner, and can be sent on a Conn or a Queue: it travels as
// its name, and the receiving process opens it (it is an error if the
// name has been removed). The zero SharedMemory is not usable.
type SharedMemory struct {
	seg    *shm.Segment
	closed atomic.Bool
}

// newNameTries bounds NewSharedMemory's retries when a random name is
// taken.
const newNameTries = 100

// NewSharedMemory creates a shared memory block of size bytes, set to
// zeros, named name, or a new unique name if name is "". It fails with an
// error that wraps fs.ErrExist if the name is taken, ErrBadName if it
// cannot be one, and ErrBadSize if size is not in 1..1 TiB. It starts the
// tree's cleanup process if none runs (see the type's documentation), and
// so fails if the program has not called Main.
func NewSharedMemory(name string, size int) (*SharedMemory, error) {
	if size <= 0 || uint64(size) > shm.MaxSize {
		return nil, fmt.Errorf("%w: %d bytes (want 1 to %d)", ErrBadSize, size, int64(shm.MaxSize))
	}
	tree := processTree()
	if name != "" {
		seg, err := shm.Create(name, size, tree)
		if err != nil {
			return nil, err
		}
		return newSharedMemory(seg), nil
	}
	for range newNameTries {
		seg, err := shm.Create(shm.NewName(), size, tree)
		if err == nil {
			return newSharedMemory(seg), nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("mp: no free shared memory name found in %d tries", newNameTries)
}

// OpenSharedMemory opens the shared memory block named name. It fails
// with an error that wraps fs.ErrNotExist if no block has the name, and
// ErrBadName if it cannot be one. Its Size is the block's, except on
// Windows, where a mapping's size cannot be read and Size is that of the
// pages that hold it (Python's is the same).
func OpenSharedMemory(name string) (*SharedMemory, error) {
	seg, err := shm.Open(name, processTree())
	if err != nil {
		return nil, err
	}
	return newSharedMemory(seg), nil
}

func newSharedMemory(seg *shm.Segment) *SharedMemory {
	m := &SharedMemory{seg: seg}
	// An unreachable block's file is closed; its memory stays mapped
	// until Close, since a slice from Buf may still point into it.
	runtime.AddCleanup(m, func(s *shm.Segment) { _ = s.CloseFile() }, seg)
	return m
}

func (m *SharedMemory) segment() *shm.Segment {
	if m == nil || m.seg == nil {
		panic("mp: use of a zero SharedMemory: create it with NewSharedMemory or OpenSharedMemory")
	}
	return m.seg
}

// Name returns the block's name, without a leading slash (Python's name).
func (m *SharedMemory) Name() string { return m.segment().Name() }

// Size returns the block's size in bytes.
func (m *SharedMemory) Size() int { return m.segment().Size() }

// Buf returns the block's memory: Size bytes that every process that has
// the block open reads and writes. Its accesses are plain memory
// accesses, not atomic: processes that share it must order their work
// (with a Lock, an Event, a Barrier, a Queue or Join), as goroutines must
// for a slice. It is valid until Close, and using it after that faults;
// Buf returns nil after Close.
func (m *SharedMemory) Buf() []byte { return m.segment().Bytes() }

// Close unmaps the block from this process, and closes its file; it does
// not remove its name (see Unlink). Others keep the block. Close must not
// run while another goroutine uses Buf's memory. A second Close returns
// nil. (A block that is not closed stays mapped in this process until it
// exits.)
func (m *SharedMemory) Close() error {
	seg := m.segment()
	if m.closed.Swap(true) {
		return nil
	}
	if err := seg.Close(); err != nil && !errors.Is(err, shm.ErrClosed) {
		return err
	}
	return nil
}

// Unlink removes the block's name, so that no process can open it any
// more; those that have it open keep it, and its memory goes with the
// last of them. Call it once, from one process, when the block is no
// longer to be found. It fails with an error wrapping fs.ErrNotExist if
// the name is gone already. On Windows it does nothing but check that the
// name exists: the name lasts while a process has the block open.
func (m *SharedMemory) Unlink() error {
	return shm.Unlink(m.segment().Name(), processTree())
}

// Persist asks that the block's name stay when the tree that created it
// ends: it lasts until something unlinks it, or the system restarts
// (Python 3.13's track=False). It fails with an error wrapping
// errors.ErrUnsupported on Windows, where a name cannot outlive the last
// process that has the block open.
func (m *SharedMemory) Persist() error { return shm.Persist(m.segment().Name()) }

// String returns SharedMemory("NAME", size=N), as Python's repr.
func (m *SharedMemory) String() string {
	if m == nil || m.seg == nil {
		return "SharedMemory(<zero>)"
	}
	return fmt.Sprintf("SharedMemory(%q, size=%d)", m.seg.Name(), m.seg.Size())
}

// The encoding of a SharedMemory: a version and its name.
const sharedMemoryEncoding = 1

// MarshalBinary encodes m as its name, for Start, Send and Put.
func (m *SharedMemory) MarshalBinary() ([]byte, error) {
	if m == nil || m.seg == nil {
		return nil, fmt.Errorf("%w: a zero SharedMemory", ErrBadMessage)
	}
	return append([]byte{sharedMemoryEncoding}, m.seg.Name()...), nil
}

// UnmarshalBinary opens the block that MarshalBinary encoded, in the
// receiving process (see OpenSharedMemory for its errors).
func (m *SharedMemory) UnmarshalBinary(b []byte) error {
	if len(b) < 1 || b[0] != sharedMemoryEncoding || len(b)-1 > shm.MaxNameLen {
		return fmt.Errorf("%w: not an encoded SharedMemory", ErrBadMessage)
	}
	o, err := OpenSharedMemory(string(b[1:]))
	if err != nil {
		return err
	}
	m.seg = o.seg
	runtime.AddCleanup(m, func(s *shm.Segment) { _ = s.CloseFile() }, o.seg)
	return nil
}

// The tree of processes of this program, for the names of shared memory
// (see internal/shm.Tree): a child learns its root from its environment
// (Main reads it), the root is the process that started without one.
var shmTree struct {
	root atomic.Uint64
	once sync.Once
	tree *shm.Tree
}

func processTree() *shm.Tree {
	shmTree.once.Do(func() {
		root := shmTree.root.Load()
		if root == 0 {
			root = uint64(robust.Self())
		}
		shmTree.tree = shm.NewTree(root, cleanupCommand)
	})
	return shmTree.tree
}

// cleanupCommand returns the command that runs this program again as the
// tree's cleanup process: Main runs it (shm.CleanupMain) before anything
// else.
func cleanupCommand() (*exec.Cmd, error) {
	if !mainCalled.Load() {
		return nil, fmt.Errorf("%w (the cleanup process that removes shared memory names when the program ends runs it again)",
			ErrMainGuard)
	}
	exe, err := spawn.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	return cmd, nil
}

// shmMain is Main's part for shared memory: run the cleanup process if
// that is what this process is, and learn the tree's root.
func shmMain() {
	shm.CleanupMain(func(id uint64) bool { return robust.Alive(robust.ID(id)) })
	if root, ok := shm.RootFromEnv(); ok {
		shmTree.root.Store(root)
	}
}
