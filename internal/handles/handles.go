// Package handles passes files (descriptors on Unix, handles on Windows)
// to a child process: the pipes and shared memory of the connections,
// queues and other values a Process carries into its child.
//
// # Identities
//
// Each passable value owns a [Set]: its files under a random 16-byte
// identity that every copy of the value, in every process, shares. A value
// encodes only its identity and numbers; decoding it looks the identity up
// among the Sets this process holds ([Lookup]): those it created, and those
// its parent passed it. So a value decoded in a process that does not hold
// it is an error, and a process that holds it may get it back, sent on a
// pipe say, as a value that shares the same files.
//
// # Passing
//
// A parent finds the Sets among what it carries into a child with a
// [Finder], which walks the values with reflection, collected per Start,
// with no state shared between Starts. After the bootstrap frame it
// passes their files with [Send], and the child takes them with [Receive]
// and installs them with [Install] before it decodes anything.
//
// On Unix the files travel over the boot channel, a Unix-domain socket,
// as SCM_RIGHTS messages. os/exec never sees them: it puts every file it
// passes into blocking mode (os.File.Fd), a flag of the open file
// description that every process holding the file shares, which would
// make the timed reads and writes of every other process block in
// read(2) and write(2) until the child changed it back. On Windows the
// parent duplicates the handles into the child (DuplicateHandle) and
// sends their values; anonymous pipes there have no non-blocking mode to
// lose.
package handles

import (
	"crypto/rand"
	"errors"
	"os"
	"runtime"
	"sync"
	"weak"

	"github.com/go-mp/mp/internal/bootstrap"
)

// ID identifies a passable value across processes.
type ID [16]byte

// Set is the files of one passable value, shared by every copy of the
// value in this process. Its Files are fixed once it is made.
type Set struct {
	ID    ID         // the value's identity, in every process
	Files []*os.File // the value's files, none nil, in the order the value gave them
}

// MaxFiles bounds the files one child can be given, so that a garbled
// bootstrap cannot make a child wait for, or allocate room for, more.
const MaxFiles = 1 << 16

// ErrNotHeld reports an identity that this process holds no Set for.
var ErrNotHeld = errors.New("not held by this process")

// New returns a Set of files under a new random identity, held by this
// process until the Set is unreachable.
func New(files ...*os.File) *Set {
	s := &Set{Files: files}
	_, _ = rand.Read(s.ID[:]) // never fails (crypto/rand, Go 1.24)
	hold(s)
	return s
}

// held maps identities to the Sets this process holds. An entry goes
// when its Set becomes unreachable: it keeps no file open.
var held = struct {
	sync.Mutex
	m map[ID]weak.Pointer[Set]
}{m: map[ID]weak.Pointer[Set]{}}

func hold(s *Set) {
	held.Lock()
	held.m[s.ID] = weak.Make(s)
	held.Unlock()
	runtime.AddCleanup(s, release, s.ID)
}

func release(id ID) {
	held.Lock()
	defer held.Unlock()
	if wp, ok := held.m[id]; ok && wp.Value() == nil {
		delete(held.m, id)
	}
}

// Lookup returns the Set with identity id that this process holds, or an
// error wrapping ErrNotHeld.
func Lookup(id ID) (*Set, error) {
	held.Lock()
	defer held.Unlock()
	if s := held.m[id].Value(); s != nil {
		return s, nil
	}
	return nil, ErrNotHeld
}

// Passed describes one Set that a child is given: its identity and how
// many of the files that follow the bootstrap are its.
type Passed = bootstrap.Passed

// Install makes the Sets that passed describes, from files as Receive
// returned them, held by this process. It returns the Sets, which the
// caller keeps reachable until it has decoded what refers to them.
func Install(passed []Passed, files []*os.File) ([]*Set, error) {
	sets := make([]*Set, 0, len(passed))
	for _, p := range passed {
		if p.N < 0 || p.N > len(files) {
			return nil, errors.New("mp: the bootstrap announces more files than were passed")
		}
		s := &Set{ID: ID(p.ID), Files: files[:p.N:p.N]}
		files = files[p.N:]
		hold(s)
		sets = append(sets, s)
	}
	if len(files) != 0 {
		return nil, errors.New("mp: more files were passed than the bootstrap announces")
	}
	return sets, nil
}

// Flatten returns the files of sets, in order, and what a child needs to
// install them.
func Flatten(sets []*Set) ([]*os.File, []Passed) {
	var files []*os.File
	passed := make([]Passed, len(sets))
	for i, s := range sets {
		files = append(files, s.Files...)
		passed[i] = Passed{ID: s.ID, N: len(s.Files)}
	}
	return files, passed
}
