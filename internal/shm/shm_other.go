//go:build unix && !linux

package shm

import "os"

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
