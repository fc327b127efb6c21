package shm

import (
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// create makes a section backed by the paging file; its pages read as zeros.
// The handle is not inheritable: Start makes the copy it passes inheritable.
func create(size int) (*os.File, error) {
	s := uint64(size)
	h, err := windows.CreateFileMapping(windows.InvalidHandle, nil, windows.PAGE_READWRITE,
		uint32(s>>32), uint32(s), nil)
	if err != nil {
		return nil, os.NewSyscallError("CreateFileMapping", err)
	}
	return os.NewFile(uintptr(h), "mp-shm"), nil
}

// checkFile: the size of a section cannot be read without the native API;
// MapViewOfFile refuses a view larger than the section.
func checkFile(*os.File, int) error { return nil }

func mapFile(f *os.File, size int) ([]byte, error) {
	addr, err := windows.MapViewOfFile(windows.Handle(f.Fd()), windows.FILE_MAP_WRITE, 0, 0, uintptr(size))
	if err != nil {
		return nil, os.NewSyscallError("MapViewOfFile", err)
	}
	// The view is memory the system mapped, outside Go's heap: reading the
	// address as a pointer, rather than converting the uintptr, says so to
	// vet.
	p := *(*unsafe.Pointer)(unsafe.Pointer(&addr))
	return unsafe.Slice((*byte)(p), size), nil
}

func unmap(mem []byte) error {
	if err := windows.UnmapViewOfFile(uintptr(unsafe.Pointer(&mem[0]))); err != nil {
		return os.NewSyscallError("UnmapViewOfFile", err)
	}
	return nil
}
