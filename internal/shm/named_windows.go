package shm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"unsafe"

	"golang.org/x/sys/windows"
)

// A Tree is a tree of processes: a root and its descendants, to which the
// root's identity is handed as they start (TreeEnv). Windows keeps a named
// file mapping as long as a process has it open and no longer: a tree
// leaves nothing behind, needs no cleanup process, and keeps no state.
type Tree struct {
	root    uint64
	command func() (*exec.Cmd, error)
}

// x/sys/windows has CreateFileMapping but not its counterpart.
var procOpenFileMapping = windows.NewLazySystemDLL("kernel32.dll").NewProc("OpenFileMappingW")

func openFileMapping(access uint32, name *uint16) (windows.Handle, error) {
	r, _, err := procOpenFileMapping.Call(uintptr(access), 0, uintptr(unsafe.Pointer(name)))
	if r == 0 {
		return 0, err
	}
	return windows.Handle(r), nil
}

// createNamed makes a named section backed by the paging file. The system
// removes the name when the last handle and view of it go: no cleanup
// process is needed, and the tree is not used.
func createNamed(name string, size int, _ *Tree) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %q", ErrBadName, name)
	}
	s := uint64(size)
	h, err := windows.CreateFileMapping(windows.InvalidHandle, nil, windows.PAGE_READWRITE,
		uint32(s>>32), uint32(s), p)
	if err == windows.ERROR_ALREADY_EXISTS {
		windows.CloseHandle(h)
		return nil, fs.ErrExist
	}
	if err != nil {
		return nil, os.NewSyscallError("CreateFileMapping", err)
	}
	return os.NewFile(uintptr(h), name), nil
}

// openNamed opens the named section and maps it whole; its size is the
// view's, in whole pages (a section's own size cannot be read without the
// native API; Python does the same).
func openNamed(name string, _ *Tree) (*os.File, []byte, error) {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %q", ErrBadName, name)
	}
	h, err := openFileMapping(windows.FILE_MAP_READ|windows.FILE_MAP_WRITE, p)
	if err != nil {
		if err == windows.ERROR_FILE_NOT_FOUND {
			return nil, nil, fs.ErrNotExist
		}
		return nil, nil, os.NewSyscallError("OpenFileMapping", err)
	}
	addr, err := windows.MapViewOfFile(h, windows.FILE_MAP_WRITE, 0, 0, 0)
	if err != nil {
		windows.CloseHandle(h)
		return nil, nil, os.NewSyscallError("MapViewOfFile", err)
	}
	var info windows.MemoryBasicInformation
	if err := windows.VirtualQuery(addr, &info, unsafe.Sizeof(info)); err != nil {
		_ = windows.UnmapViewOfFile(addr)
		windows.CloseHandle(h)
		return nil, nil, os.NewSyscallError("VirtualQuery", err)
	}
	size := int(info.RegionSize)
	if uint64(size) > MaxSize {
		size = MaxSize
	}
	ptr := *(*unsafe.Pointer)(unsafe.Pointer(&addr)) // see mapFile
	return os.NewFile(uintptr(h), name), unsafe.Slice((*byte)(ptr), size), nil
}

// unlinkNamed checks that the name exists; removing it is the system's
// business (see Unlink).
func unlinkNamed(name string, _ *Tree) error {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrBadName, name)
	}
	h, err := openFileMapping(windows.FILE_MAP_READ, p)
	if err != nil {
		if err == windows.ERROR_FILE_NOT_FOUND {
			return fs.ErrNotExist
		}
		return os.NewSyscallError("OpenFileMapping", err)
	}
	windows.CloseHandle(h)
	return nil
}

func persistNamed(name string) error {
	if err := unlinkNamed(name, nil); err != nil {
		return err
	}
	return fmt.Errorf("a named mapping lasts only while a process has it open on Windows: %w", errors.ErrUnsupported)
}

// runCleanup: Windows needs no cleanup process.
func runCleanup(string, func(uint64) bool) error { return errors.New("no cleanup process on Windows") }
