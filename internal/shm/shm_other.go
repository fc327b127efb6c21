//go:build unix && !linux

package shm

import (
	"os"
	"path/filepath"
	"strconv"
)

// create makes a temporary file and removes its name at once, so that only
// the descriptors keep it. (FreeBSD's SHM_ANON and macOS's shm_open would
// avoid the file system, but cannot be tested here; a removed file is the
// documented, portable fallback.) os.CreateTemp opens with O_CLOEXEC.
func create(size int) (*os.File, error) {
	f, err := os.CreateTemp("", "mp-shm-*")
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, err
	}
	if err := truncate(f, size); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// segmentDir is where named segments live: a directory of the user's in
// /tmp, made on first use. shm_open(2) is a C library call on macOS, which
// Go cannot make without cgo (x/sys offers no wrapper, and its raw system
// call takes its mode as a variadic argument, which arm64 passes on the
// stack); FreeBSD's is a system call that this module cannot test. Files in
// /tmp are the documented, portable fallback: mapped MAP_SHARED they are
// shared memory all the same, though the system may write their pages to
// disk.
func segmentDir() (string, error) {
	dir := filepath.Join("/tmp", "mp-shm-"+strconv.Itoa(os.Getuid()))
	if err := mkdirPrivate(dir); err != nil {
		return "", err
	}
	return dir, nil
}
