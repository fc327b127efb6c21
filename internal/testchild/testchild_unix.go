//go:build unix

package testchild

import (
	"os"
	"os/exec"
)

// pass makes fs the child's descriptors 3, 4, ...
func pass(cmd *exec.Cmd, fs []*os.File) []uintptr {
	cmd.ExtraFiles = fs
	hs := make([]uintptr, len(fs))
	for i := range fs {
		hs[i] = uintptr(3 + i)
	}
	return hs
}

func inherit(fd uintptr) *os.File { return os.NewFile(fd, "testchild") }
