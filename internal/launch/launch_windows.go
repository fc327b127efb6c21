package launch

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Exit codes that TerminateCode and KillCode give a child, so that
// ExitCode can report -15 and -9 as on Unix ("MP" and the signal number).
const (
	TerminateCode = 0x4D50_000F
	KillCode      = 0x4D50_0009
)

// sysProc holds a Windows child's process handle and its Job Object,
// created with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE: when the parent dies in
// any way the system closes its handle and the child, with anything it
// started, is killed.
type sysProc struct {
	process   windows.Handle
	jobHandle windows.Handle
	asked     bool // Ask wrote its request
}

// newBoot creates the boot channel, a pipe. Anonymous pipes on Windows
// have no non-blocking mode for anyone to change.
func newBoot() (parent, child *os.File, err error) {
	child, parent, err = os.Pipe()
	return parent, child, err
}

// prepare passes the child's ends of the channels as inherited handles,
// and returns the handle values the child will see. os/exec's ExtraFiles
// is not supported on Windows (golang/go#26182); AdditionalInheritedHandles
// goes into PROC_THREAD_ATTRIBUTE_HANDLE_LIST, so the child inherits these
// handles and its standard handles only. The files of the connections and
// queues it is given are duplicated into it after it starts (package
// handles).
//
// The child is put in a new process group: a console Ctrl-C then reaches
// the parent, which decides what its children get, and not the children
// directly (CREATE_NEW_PROCESS_GROUP disables Ctrl-C handling in the new
// group; Ctrl-Break still arrives). Unix children get a process group of
// their own for the same reason.
func prepare(cmd *exec.Cmd, ch *channels) (boot, report uintptr) {
	hs := []windows.Handle{windows.Handle(ch.childBoot.Fd()), windows.Handle(ch.childReport.Fd())}
	for _, h := range hs {
		// Only this child's ends, which no one else holds; Go's process
		// creation inherits only the handles its list names.
		_ = windows.SetHandleInformation(h, windows.HANDLE_FLAG_INHERIT, windows.HANDLE_FLAG_INHERIT)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: windows.CREATE_NEW_PROCESS_GROUP}
	for _, h := range hs {
		cmd.SysProcAttr.AdditionalInheritedHandles = append(cmd.SysProcAttr.AdditionalInheritedHandles, syscall.Handle(h))
	}
	return uintptr(hs[0]), uintptr(hs[1])
}

// start starts the child and puts it in a Job Object of its own before
// sending it any work. Go cannot create a process inside a job
// (golang/go#79927), so the child starts outside it, but it runs no target
// code until its bootstrap arrives, and the parent sends that only once the
// child is in the job: the bootstrap is the go-ahead.
//
// os.Process does not expose its process handle, so the parent opens one by
// PID. That PID cannot have been reused: os.Process holds a handle to the
// child until it is waited for, and Windows does not reuse the ID of a
// process while a handle to it is open.
//
// A Graceful child, which must outlive its parent by its grace period,
// breaks away from the jobs its parent is in (which kill what is in them
// when the parent dies, or is reaped), where they allow it: every job of
// this package does (JOB_OBJECT_LIMIT_BREAKAWAY_OK). And it is given a
// handle to its own job: the job, and the child with it, then lasts until
// both the parent's handle and the child's are closed, that is until the
// child too has died. What the child left running is killed then, as for
// any child. Where a job of the parent forbids breaking away, the child
// stays in it, and dies with it.
func start(cmd *exec.Cmd, s *Spec) (sysProc, error) {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return sysProc{}, fmt.Errorf("creating a job object: %w", err)
	}
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{
		BasicLimitInformation: windows.JOBOBJECT_BASIC_LIMIT_INFORMATION{
			LimitFlags: windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | windows.JOB_OBJECT_LIMIT_BREAKAWAY_OK,
		},
	}
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		windows.CloseHandle(job)
		return sysProc{}, fmt.Errorf("setting up a job object: %w", err)
	}
	if s.Graceful {
		cmd.SysProcAttr.CreationFlags |= windows.CREATE_BREAKAWAY_FROM_JOB
	}
	err = cmd.Start()
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) && s.Graceful {
		// A job this process is in forbids breaking away: the child stays
		// in it, and dies with it. A Cmd starts once: start a copy.
		attr := *cmd.SysProcAttr
		attr.CreationFlags &^= windows.CREATE_BREAKAWAY_FROM_JOB
		*cmd = exec.Cmd{Path: cmd.Path, Args: cmd.Args, Env: cmd.Env, Dir: cmd.Dir, Stdin: cmd.Stdin,
			Stdout: cmd.Stdout, Stderr: cmd.Stderr, WaitDelay: cmd.WaitDelay, SysProcAttr: &attr}
		err = cmd.Start()
	}
	if err != nil {
		windows.CloseHandle(job)
		return sysProc{}, err
	}
	const access = windows.PROCESS_SET_QUOTA | windows.PROCESS_TERMINATE | windows.SYNCHRONIZE |
		windows.PROCESS_QUERY_LIMITED_INFORMATION | windows.PROCESS_DUP_HANDLE
	h, err := windows.OpenProcess(access, false, uint32(cmd.Process.Pid))
	if err == nil {
		err = windows.AssignProcessToJobObject(job, h)
		if err == nil && s.Graceful {
			var inChild windows.Handle // the child never uses it: it only holds the job open
			err = windows.DuplicateHandle(windows.CurrentProcess(), job, h, &inChild, 0, false, windows.DUPLICATE_SAME_ACCESS)
		}
		if err != nil && exited(h) {
			// The child has exited already (a program that ends before
			// mp.Main, say): Windows refuses to put a process that has
			// ended in a job, and there is nothing left to contain. The
			// bootstrap's send fails, and the child's end is reported as
			// any child's.
			err = nil
		}
		if err != nil {
			windows.CloseHandle(h)
		}
	}
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		windows.CloseHandle(job)
		return sysProc{}, fmt.Errorf("putting the child in its job object: %w", err)
	}
	return sysProc{process: h, jobHandle: job}, nil
}

// exited reports whether the process h has ended.
func exited(h windows.Handle) bool {
	ev, err := windows.WaitForSingleObject(h, 0)
	return err == nil && ev == windows.WAIT_OBJECT_0
}

// release closes the handles once the child has been reaped; closing the
// job kills anything the child left running in it.
func (s sysProc) release() {
	windows.CloseHandle(s.process)
	windows.CloseHandle(s.jobHandle)
}

// WithProcess runs f with the child's process handle, opened with
// PROCESS_DUP_HANDLE among other rights, if the child has not been reaped
// (Wait closes the handle); else it returns os.ErrProcessDone. Terminate
// and Wait wait for f: it must not block.
func (c *Child) WithProcess(f func(proc uintptr) error) error {
	return c.live(func(_ *os.Process, s *sysProc) error { return f(uintptr(s.process)) })
}

// Terminate ends the child with TerminateProcess and the exit code code;
// what it started dies with it, as its own children are in jobs that close
// with it. A child that has exited but is not yet reaped makes
// TerminateProcess fail with ERROR_ACCESS_DENIED: that, and a child that
// has been reaped, give os.ErrProcessDone.
func (c *Child) Terminate(code uint32) error {
	return c.live(func(_ *os.Process, s *sysProc) error { return terminate(s, code) })
}

func terminate(s *sysProc, code uint32) error {
	err := windows.TerminateProcess(s.process, code)
	if err != nil {
		if ev, werr := windows.WaitForSingleObject(s.process, 0); werr == nil && ev == windows.WAIT_OBJECT_0 {
			return os.ErrProcessDone
		}
	}
	return err
}

// Ask writes the byte req on the boot channel, the lifeline, once, and
// ends the child with TerminateProcess and code if it is still running
// after backstop: a request to stop, which Windows has no signal for. A
// later Ask does nothing. If the write fails (the child is gone, or
// going), Ask ends the child at once. The write does not wait: the child
// reads its lifeline, and a pipe holds a byte in any case.
func (c *Child) Ask(req byte, backstop time.Duration, code uint32) error {
	return c.live(func(_ *os.Process, s *sysProc) error {
		if s.asked {
			return nil
		}
		if _, err := c.Boot.Write([]byte{req}); err != nil {
			return terminate(s, code)
		}
		s.asked = true
		time.AfterFunc(backstop, func() { _ = c.Terminate(code) })
		return nil
	})
}

// CtrlBreak sends CTRL_BREAK_EVENT to the child's process group, which
// is the child's own (CREATE_NEW_PROCESS_GROUP) and has its process ID.
// The console API takes that ID only; it cannot name another process
// here, as the child is not yet reaped (see Start). The child must share
// the caller's console.
func (c *Child) CtrlBreak() error {
	return c.live(func(p *os.Process, _ *sysProc) error {
		return windows.GenerateConsoleCtrlEvent(windows.CTRL_BREAK_EVENT, uint32(p.Pid))
	})
}

// statusControlCExit is the exit code of a process that a console control
// event ended (STATUS_CONTROL_C_EXIT).
const statusControlCExit = 0xC000013A

// ExitCode is Python's exit code: the status, with TerminateCode, KillCode
// and a death by a console control event (CtrlBreak) reported as -15, -9
// and -2; 1 for a nil ps (the wait failed).
func ExitCode(ps *os.ProcessState) int {
	if ps == nil {
		return 1
	}
	switch uint32(ps.ExitCode()) {
	case TerminateCode:
		return -15
	case KillCode:
		return -9
	case statusControlCExit:
		return -2
	}
	return ps.ExitCode()
}

// Inherited opens, in a child, the pipes the marker names, checking that
// they are pipes, and makes them non-inheritable for the programs the
// child starts.
func Inherited(bootH, reportH uintptr) (boot, report *os.File, err error) {
	hs := [2]windows.Handle{windows.Handle(bootH), windows.Handle(reportH)}
	for _, h := range hs {
		if t, err := windows.GetFileType(h); err != nil || t != windows.FILE_TYPE_PIPE {
			return nil, nil, errors.New("mp: the marker names no inherited channel")
		}
	}
	for _, h := range hs {
		_ = windows.SetHandleInformation(h, windows.HANDLE_FLAG_INHERIT, 0)
	}
	return os.NewFile(bootH, "mp-boot"), os.NewFile(reportH, "mp-report"), nil
}

// Redirects reports whether a child started ahead of time can take new
// standard files with its work (Child.Redirect, TakeStdio): not on
// Windows, where a program holds its standard handles as values taken at
// initialisation (os.Stdout, the log package's logger), and no call puts
// another file behind a handle value as dup2 does.
const Redirects = false

// TakeStdio is Unix's: on Windows it fails.
func TakeStdio(i int, f *os.File) error {
	f.Close()
	return errors.New("mp: a child cannot take new standard files on Windows")
}
