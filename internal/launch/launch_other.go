//go:build unix && !linux

package launch

import "os/exec"

// sysProc is what a child needs besides its os.Process; on Unix other than
// Linux, the lifeline is all (see package mp's documentation, "No
// orphans").
type sysProc struct{}

func start(cmd *exec.Cmd, _ *Spec) (sysProc, error) { return sysProc{}, cmd.Start() }

func (sysProc) release() {}
