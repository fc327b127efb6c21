//go:build unix

package mp

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/go-mp/mp/internal/bootstrap"
)

// prepareCmd passes the boot and report pipes as the child's fds 3 and 4,
// and files as fds 5, 6, ...; it returns the numbers the child will see.
//
// The child is put in a process group of its own, so that a Ctrl-C at the
// terminal (SIGINT to the foreground group) reaches the parent, which
// decides what its children get; if the parent dies of it, the children
// follow through their lifelines. Windows does the same with
// CREATE_NEW_PROCESS_GROUP.
func prepareCmd(cmd *exec.Cmd, boot, report *os.File, files []*os.File) (uintptr, uintptr, []uint64) {
	cmd.ExtraFiles = append([]*os.File{boot, report}, files...)
	fds := make([]uint64, len(files))
	for i := range files {
		fds[i] = uint64(5 + i)
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	return 3, 4, fds
}

// terminateProcess sends SIGTERM through the os.Process handle (a pidfd on
// Linux), never a bare PID.
func terminateProcess(p *os.Process, _ sysProc) error { return p.Signal(syscall.SIGTERM) }

func killProcess(p *os.Process, _ sysProc) error { return p.Kill() }

// exitCode is Python's exit code: the status, or -N for signal N.
func exitCode(ps *os.ProcessState) int {
	if ps == nil {
		return 1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -int(ws.Signal())
	}
	return ps.ExitCode()
}

// childFiles opens the pipes the marker names, checking that they are
// pipes this process inherited.
func childFiles(m bootstrap.Marker) (boot, report *os.File, err error) {
	fds := [2]int{int(m.Boot), int(m.Report)}
	for _, fd := range fds {
		var st unix.Stat_t
		if fd < 3 || unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
			return nil, nil, errors.New("mp: marker names no inherited pipe")
		}
	}
	for _, fd := range fds {
		// Programs this child runs with os/exec must not inherit them: a
		// descendant holding the report pipe would delay the parent's Join.
		unix.CloseOnExec(fd)
	}
	// Non-blocking, so that the runtime's poller serves it and a read
	// deadline works while we check it is ours.
	_ = unix.SetNonblock(fds[0], true)
	return os.NewFile(uintptr(fds[0]), "mp-boot"), os.NewFile(uintptr(fds[1]), "mp-report"), nil
}

// bootTimeout bounds the wait for the bootstrap. The parent writes it right
// after the child has been created, so only a stray marker naming someone
// else's pipe waits this long.
const bootTimeout = time.Minute

func readBoot(f *os.File, nonce string) (*bootstrap.Boot, error) {
	_ = f.SetReadDeadline(time.Now().Add(bootTimeout))
	defer f.SetReadDeadline(time.Time{})
	return bootstrap.ReadBoot(f, nonce)
}
