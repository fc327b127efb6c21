// Package shm owns anonymous shared-memory segments: memory of any size that
// a process maps and hands to its children as a file, so that every process
// of the tree maps the same pages.
//
// An anonymous segment is created zeroed with [New] and attached in a child,
// from the file it inherited, with [Attach]. Nothing names it in a file
// system, so nothing outlives the last process that has it mapped or open:
// it cannot leak.
//
// A named segment ([Create], [Open], [Unlink]) is one that any program can
// open by its name, Python's multiprocessing.shared_memory included. Its
// name outlives the processes that use it unless something removes it, so
// every named segment is registered with the [Tree] of processes that made
// it: a cleanup process, started on first need, removes the names of a
// tree once the tree has ended, whatever killed it. See Tree.
//
// # Platform notes
//
// Anonymous segments: Linux uses memfd_create(2) (MFD_CLOEXEC). Other Unix
// systems use a temporary file that is removed as soon as it is created.
// Windows uses a section backed by the paging file (CreateFileMapping with
// INVALID_HANDLE_VALUE). Pages cost memory only once touched on every one of
// them.
//
// Named segments: on Linux the file /dev/shm/NAME, which is what
// shm_open(3) opens, so that other programs (Python's SharedMemory, C's
// shm_open) find it. On macOS and FreeBSD, where shm_open is a C library
// call that x/sys does not offer and that Go cannot make without cgo, the
// file NAME in /tmp/mp-shm-UID, a directory of the user's: mp programs
// find each other's segments, other programs find them as files to map.
// On Windows a file mapping backed by the paging file, named NAME in the
// session's namespace, as Python names its own.
package shm

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
)

// ErrClosed is returned by Close of a segment already closed.
var ErrClosed = errors.New("mp: shared memory segment is closed")

// MaxSize is the largest segment New and Attach accept: 1 TiB, far beyond
// what any queue or array needs but small enough that sizes never overflow.
const MaxSize = 1 << 40

// Segment is a mapped shared-memory segment and the file that stands for it.
// Its methods are safe for concurrent use, but Bytes must not be used after
// Close: the memory is unmapped, and touching it faults.
type Segment struct {
	mu   sync.Mutex
	f    *os.File
	mem  []byte
	size int
	name string // "" for an anonymous segment
}

func checkSize(size int) error {
	if size <= 0 || uint64(size) > MaxSize || uint64(size) > math.MaxInt {
		return fmt.Errorf("mp: shared memory segment of %d bytes: the size must be in 1..%d", size, int64(MaxSize))
	}
	return nil
}

// New creates a zeroed segment of size bytes and maps it.
func New(size int) (*Segment, error) {
	if err := checkSize(size); err != nil {
		return nil, err
	}
	f, err := create(size)
	if err != nil {
		return nil, fmt.Errorf("mp: creating a shared memory segment of %d bytes: %w", size, err)
	}
	mem, err := mapFile(f, size)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("mp: mapping a shared memory segment of %d bytes: %w", size, err)
	}
	return &Segment{f: f, mem: mem, size: size}, nil
}

// Attach maps the first size bytes of the segment that f stands for: a file
// that a parent passed from File. On success the segment owns f, and Close
// closes it; on failure f is left open. A file smaller than size is refused
// (on Windows, where a section's size cannot be read, the mapping fails).
func Attach(f *os.File, size int) (*Segment, error) {
	if err := checkSize(size); err != nil {
		return nil, err
	}
	if f == nil {
		return nil, fmt.Errorf("mp: attaching a shared memory segment: no file")
	}
	if err := checkFile(f, size); err != nil {
		return nil, fmt.Errorf("mp: attaching a shared memory segment of %d bytes: %w", size, err)
	}
	mem, err := mapFile(f, size)
	if err != nil {
		return nil, fmt.Errorf("mp: attaching a shared memory segment of %d bytes: %w", size, err)
	}
	return &Segment{f: f, mem: mem, size: size}, nil
}

// Bytes returns the mapped memory; nil after Close.
func (s *Segment) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem
}

// Size returns the segment's size in bytes, as given to New or Attach.
func (s *Segment) Size() int { return s.size }

// File returns the file that stands for the segment, to pass to a child,
// which calls Attach with it; nil after Close. The segment keeps ownership.
func (s *Segment) File() *os.File {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f
}

// CloseFile closes the file but keeps the memory mapped: for a holder that
// will not pass the segment on, while goroutines may still touch the
// memory; Close unmaps it later. A second CloseFile, or one after Close,
// returns ErrClosed.
func (s *Segment) CloseFile() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return ErrClosed
	}
	err := s.f.Close()
	s.f = nil
	if err != nil {
		return fmt.Errorf("mp: closing a shared memory segment's file: %w", err)
	}
	return nil
}

// Detach unmaps the memory and hands the file back to the caller, open:
// for a caller that attached a file it does not own and found it was not
// what it wanted. The segment is then closed.
func (s *Segment) Detach() (*os.File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mem == nil {
		return nil, ErrClosed
	}
	err := unmap(s.mem)
	f := s.f
	s.f, s.mem = nil, nil
	if err != nil {
		return f, fmt.Errorf("mp: unmapping a shared memory segment: %w", err)
	}
	return f, nil
}

// Close unmaps the memory and closes the file. Other processes keep their
// own mappings. A second Close returns ErrClosed.
func (s *Segment) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mem == nil {
		return ErrClosed
	}
	err := unmap(s.mem)
	if s.f != nil {
		if cerr := s.f.Close(); err == nil {
			err = cerr
		}
	}
	s.f, s.mem = nil, nil
	if err != nil {
		return fmt.Errorf("mp: closing a shared memory segment: %w", err)
	}
	return nil
}
