package testchild

import (
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/windows"
)

// pass lets the child inherit the files' handles, under the same values.
func pass(cmd *exec.Cmd, fs []*os.File) []uintptr {
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	hs := make([]uintptr, len(fs))
	for i, f := range fs {
		h := f.Fd()
		_ = windows.SetHandleInformation(windows.Handle(h), windows.HANDLE_FLAG_INHERIT, windows.HANDLE_FLAG_INHERIT)
		cmd.SysProcAttr.AdditionalInheritedHandles = append(cmd.SysProcAttr.AdditionalInheritedHandles, syscall.Handle(h))
		hs[i] = h
	}
	return hs
}

func inherit(h uintptr) *os.File { return os.NewFile(h, "testchild") }
