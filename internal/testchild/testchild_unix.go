//go:build unix

package testchild

import (
	"os"
	"os/exec"
)

// pass makes f the child's descriptor 3.
func pass(cmd *exec.Cmd, f *os.File) uintptr {
	cmd.ExtraFiles = []*os.File{f}
	return 3
}

func inherit(fd uintptr) *os.File { return os.NewFile(fd, "testchild") }
