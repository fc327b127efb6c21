package shm

import (
	"os"

	"golang.org/x/sys/unix"
)

// create makes an anonymous memory file (memfd_create(2), Linux 3.17).
// MFD_CLOEXEC keeps it out of programs exec'd without being asked to pass
// it; a child gets it through ExtraFiles, which clears the flag on its copy.
func create(size int) (*os.File, error) {
	fd, err := unix.MemfdCreate("mp-shm", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("memfd_create", err)
	}
	f := os.NewFile(uintptr(fd), "mp-shm")
	if err := truncate(f, size); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// segmentDir is where named segments live: the tmpfs where glibc's
// shm_open(3) makes its objects, so that other programs find them.
func segmentDir() (string, error) { return "/dev/shm", nil }
