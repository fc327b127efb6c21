//go:build unix

package shm

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// checkFile refuses a file smaller than size: touching a mapped page past
// the end of the file would raise SIGBUS.
func checkFile(f *os.File, size int) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return os.NewSyscallError("fstat", err)
	}
	if st.Size < int64(size) {
		return fmt.Errorf("the file holds %d bytes", st.Size)
	}
	return nil
}

func mapFile(f *os.File, size int) ([]byte, error) {
	mem, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, os.NewSyscallError("mmap", err)
	}
	return mem, nil
}

func unmap(mem []byte) error {
	if err := unix.Munmap(mem); err != nil {
		return os.NewSyscallError("munmap", err)
	}
	return nil
}

// truncate sizes a new file; the pages read as zeros until written.
func truncate(f *os.File, size int) error {
	if err := unix.Ftruncate(int(f.Fd()), int64(size)); err != nil {
		return os.NewSyscallError("ftruncate", err)
	}
	return nil
}
