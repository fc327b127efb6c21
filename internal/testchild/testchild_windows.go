package testchild

import (
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/windows"
)

// pass lets the child inherit f's handle, under the same value.
func pass(cmd *exec.Cmd, f *os.File) uintptr {
	h := f.Fd()
	_ = windows.SetHandleInformation(windows.Handle(h), windows.HANDLE_FLAG_INHERIT, windows.HANDLE_FLAG_INHERIT)
	cmd.SysProcAttr = &syscall.SysProcAttr{AdditionalInheritedHandles: []syscall.Handle{syscall.Handle(h)}}
	return h
}

func inherit(h uintptr) *os.File { return os.NewFile(h, "testchild") }
