//go:build unix && !linux

package mp

import "os/exec"

// sysProc is what a child needs besides its os.Process; on Unix other than
// Linux, the lifeline is all (see the package documentation).
type sysProc struct{}

func startCmd(cmd *exec.Cmd) (sysProc, error) { return sysProc{}, cmd.Start() }

func (sysProc) release() {}
