//go:build unix

package launch

import (
	"errors"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// newBoot creates the boot channel, a Unix-domain stream socket pair,
// close-on-exec from birth, so that no other child started meanwhile
// inherits an end. The parent's end is non-blocking, served by the
// runtime's poller.
func newBoot() (parent, child *os.File, err error) {
	fds, err := socketpair()
	if err != nil {
		return nil, nil, os.NewSyscallError("socketpair", err)
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return nil, nil, os.NewSyscallError("setnonblock", err)
	}
	return os.NewFile(uintptr(fds[0]), "mp-boot"), os.NewFile(uintptr(fds[1]), "mp-boot"), nil
}

// prepare passes the child's ends of the channels as its descriptors 3 and
// 4, and returns those numbers. These two are the only files os/exec
// sees: it puts every file it passes in blocking mode (File.Fd), a flag of
// the open file description that every process holding it shares, and
// only this child holds these. The files of the connections and queues
// the child is given follow the bootstrap over the socket (package
// handles), untouched.
//
// The child is put in a process group of its own, so that a Ctrl-C at the
// terminal (SIGINT to the foreground group) reaches the parent, which
// decides what its children get; if the parent dies of it, the children
// follow through their lifelines. Windows does the same with
// CREATE_NEW_PROCESS_GROUP.
func prepare(cmd *exec.Cmd, ch *channels) (boot, report uintptr) {
	cmd.ExtraFiles = []*os.File{ch.childBoot, ch.childReport}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return 3, 4
}

// Signal sends sig to the child through the os.Process handle (a pidfd
// on Linux), never a bare PID. Once the child has been reaped it returns
// os.ErrProcessDone.
func (c *Child) Signal(sig os.Signal) error {
	return c.live(func(p *os.Process, _ *sysProc) error { return p.Signal(sig) })
}

// ExitCode is Python's exit code: the status, or -N for signal N; 1 for a
// nil ps (the wait failed).
func ExitCode(ps *os.ProcessState) int {
	if ps == nil {
		return 1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -int(ws.Signal())
	}
	return ps.ExitCode()
}

// Inherited opens, in a child, the channels the marker names, after
// checking that they are what a parent passes (a socket and a pipe) and
// that this process inherited them. It makes them close-on-exec, so that
// programs this child runs do not hold them (a descendant holding the
// report pipe would delay the parent's Join), and the boot channel
// non-blocking, so that the runtime's poller serves it and a read deadline
// works while the child checks the bootstrap is its own. Only this
// process holds these descriptors.
func Inherited(bootFD, reportFD uintptr) (boot, report *os.File, err error) {
	fds := [2]int{int(bootFD), int(reportFD)}
	want := [2]uint32{unix.S_IFSOCK, unix.S_IFIFO}
	for i, fd := range fds {
		var st unix.Stat_t
		if fd < 3 || unix.Fstat(fd, &st) != nil || uint32(st.Mode)&unix.S_IFMT != want[i] {
			return nil, nil, errors.New("mp: the marker names no inherited channel")
		}
	}
	for _, fd := range fds {
		unix.CloseOnExec(fd)
	}
	_ = unix.SetNonblock(fds[0], true)
	return os.NewFile(bootFD, "mp-boot"), os.NewFile(reportFD, "mp-report"), nil
}

// Redirects reports whether a child started ahead of time can take new
// standard files with its work (Child.Redirect, TakeStdio): on Unix it
// makes them its descriptors 0, 1 and 2 with dup2.
const Redirects = true

// TakeStdio makes f the calling process's standard file i (0, 1 or 2),
// with dup2, and closes f: everything that writes to or reads from
// descriptor i, such as os.Stdout and the loggers made from it at
// initialisation, uses f from then on. A child started ahead of time calls
// it for the standard files its parent passed with its work.
func TakeStdio(i int, f *os.File) error {
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var derr error
	if err := rc.Control(func(fd uintptr) { derr = unix.Dup2(int(fd), i) }); err != nil {
		return err
	}
	if derr != nil {
		return os.NewSyscallError("dup2", derr)
	}
	return nil
}
