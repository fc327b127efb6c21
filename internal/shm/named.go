package shm

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Named segments are segments that a name finds, so that any program can
// open them: the name is a POSIX shared memory name on Linux (the file
// /dev/shm/NAME, which shm_open(3) and Python's shared_memory open), a file
// in a directory of the user's on other Unix systems, and the name of a
// file mapping on Windows. A name is given without the leading slash that
// shm_open wants; one is accepted and dropped.
//
// A named segment that a tree of processes creates is registered with the
// tree (see Tree), whose cleanup process removes its name once every
// process of the tree has ended, however they ended.

// MaxNameLen is the longest name accepted, in bytes: NAME_MAX of Linux and
// the BSDs.
const MaxNameLen = 255

// ErrBadName is wrapped by the errors of Create, Open and Unlink for a name
// that cannot be a segment's name.
var ErrBadName = errors.New("mp: bad shared memory name")

// namePrefix starts the names NewName makes (Python's are psm_ on Unix).
const namePrefix = "mp_"

// reservedPrefix starts the names of the registries that this package keeps
// beside the segments, which no segment may take.
const reservedPrefix = ".mp-"

// NewName returns a fresh random name: mp_ and 16 hex digits.
func NewName() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24)
	return namePrefix + hex.EncodeToString(b[:])
}

// CheckName returns name without its leading slash, or an error wrapping
// ErrBadName: an empty name, one with a slash after the first byte or a
// NUL, ".", "..", one that starts with ".mp-", or one longer than
// MaxNameLen.
func CheckName(name string) (string, error) {
	n := strings.TrimPrefix(name, "/")
	switch {
	case n == "":
		return "", fmt.Errorf("%w: the name is empty", ErrBadName)
	case len(n) > MaxNameLen:
		return "", fmt.Errorf("%w: %q is longer than %d bytes", ErrBadName, name, MaxNameLen)
	case strings.ContainsAny(n, "/\x00"):
		return "", fmt.Errorf("%w: %q holds a slash or a NUL", ErrBadName, name)
	case n == "." || n == "..":
		return "", fmt.Errorf("%w: %q", ErrBadName, name)
	case strings.HasPrefix(n, reservedPrefix):
		return "", fmt.Errorf("%w: names starting with %q are mp's own", ErrBadName, reservedPrefix)
	}
	return n, nil
}

// Create creates the named segment, size bytes of zeros, and maps it. It
// fails with an error wrapping fs.ErrExist if the name is taken. The
// segment is registered with t, whose cleanup process removes the name once
// every process of the tree has ended (see Tree); on Windows the system
// does that, and t is not used.
//
// Nothing that opens the name sees the segment before it has its size.
func Create(name string, size int, t *Tree) (*Segment, error) {
	n, err := CheckName(name)
	if err != nil {
		return nil, err
	}
	if err := checkSize(size); err != nil {
		return nil, err
	}
	f, err := createNamed(n, size, t)
	if err != nil {
		return nil, fmt.Errorf("mp: creating shared memory %q: %w", n, err)
	}
	mem, err := mapFile(f, size)
	if err != nil {
		f.Close()
		_ = unlinkNamed(n, t)
		return nil, fmt.Errorf("mp: mapping shared memory %q: %w", n, err)
	}
	return &Segment{f: f, mem: mem, size: size, name: n}, nil
}

// Open maps the named segment, whole: its size is the file's on Unix; on
// Windows, where a mapping's size cannot be read, it is the size of the
// view, a whole number of pages. It fails with an error wrapping
// fs.ErrNotExist if no segment has the name. A process of t that opens a
// segment is one that t's cleanup waits for.
func Open(name string, t *Tree) (*Segment, error) {
	n, err := CheckName(name)
	if err != nil {
		return nil, err
	}
	f, mem, err := openNamed(n, t)
	if err != nil {
		return nil, fmt.Errorf("mp: opening shared memory %q: %w", n, err)
	}
	return &Segment{f: f, mem: mem, size: len(mem), name: n}, nil
}

// Unlink removes the name, so that no one can open the segment any more;
// those that have it keep it, and its memory goes with the last of them.
// It fails with an error wrapping fs.ErrNotExist if no segment has the
// name. On Windows a name lasts exactly as long as some process has the
// segment open, and Unlink does nothing (as in Python).
func Unlink(name string, t *Tree) error {
	n, err := CheckName(name)
	if err != nil {
		return err
	}
	if err := unlinkNamed(n, t); err != nil {
		return fmt.Errorf("mp: unlinking shared memory %q: %w", n, err)
	}
	return nil
}

// Persist takes the named segment out of the cleanup of every tree that
// registered it: it stays until something unlinks it (or the system
// restarts). It fails with an error wrapping fs.ErrNotExist if no segment
// has the name, and on Windows, where a name cannot outlive the last
// process that has it open, with one wrapping errors.ErrUnsupported.
func Persist(name string) error {
	n, err := CheckName(name)
	if err != nil {
		return err
	}
	if err := persistNamed(n); err != nil {
		return fmt.Errorf("mp: keeping shared memory %q: %w", n, err)
	}
	return nil
}

// Name returns a named segment's name, without a leading slash; "" for an
// anonymous one.
func (s *Segment) Name() string { return s.name }
