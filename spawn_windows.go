package mp

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/go-mp/mp/internal/bootstrap"
)

// Exit codes that Terminate and Kill give a Windows child, so that ExitCode
// can report -15 and -9 as on Unix ("MP" and the signal number).
const (
	terminateCode = 0x4D50_000F
	killCode      = 0x4D50_0009
)

// sysProc holds a Windows child's process handle and its Job Object,
// created with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE: when the parent dies in any
// way the system closes its handle and the child, with anything it started,
// is killed.
type sysProc struct {
	process   windows.Handle
	jobHandle windows.Handle
}

// prepareCmd passes the pipes, and files, as inherited handles, and returns
// the handle values the child will see. os/exec's ExtraFiles
// is not supported on Windows (golang/go#26182); AdditionalInheritedHandles
// goes into PROC_THREAD_ATTRIBUTE_HANDLE_LIST, so the child inherits these
// handles and its standard handles only.
//
// The child is put in a new process group: a console Ctrl-C then reaches
// the parent, which decides what its children get, and not the children
// directly (CREATE_NEW_PROCESS_GROUP disables Ctrl-C handling in the new
// group; Ctrl-Break still arrives). Unix children get a process group of
// their own for the same reason.
func prepareCmd(cmd *exec.Cmd, boot, report *os.File, files []*os.File) (uintptr, uintptr, []uint64) {
	hs := []windows.Handle{windows.Handle(boot.Fd()), windows.Handle(report.Fd())}
	values := make([]uint64, len(files))
	for i, f := range files {
		// The files of connections and queues stay inheritable while the
		// parent holds them; Go's process creation inherits only the
		// handles its list names, so no other child gets them.
		hs = append(hs, windows.Handle(f.Fd()))
		values[i] = uint64(f.Fd())
	}
	for _, h := range hs {
		_ = windows.SetHandleInformation(h, windows.HANDLE_FLAG_INHERIT, windows.HANDLE_FLAG_INHERIT)
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	for _, h := range hs {
		cmd.SysProcAttr.AdditionalInheritedHandles = append(cmd.SysProcAttr.AdditionalInheritedHandles, syscall.Handle(h))
	}
	cmd.SysProcAttr.CreationFlags |= windows.CREATE_NEW_PROCESS_GROUP
	// They stay inheritable only until launch closes the parent's copies
	// right after the start; meanwhile Go's other process creations inherit
	// only the handles their own lists name.
	return uintptr(hs[0]), uintptr(hs[1]), values
}

// startCmd starts the child and puts it in a Job Object of its own before
// sending it any work. Go cannot create a process inside a job
// (golang/go#79927), so the child starts outside it, but it runs no target
// code until its bootstrap arrives, and the parent sends that only once the
// child is in the job: the bootstrap is the go-ahead.
//
// os.Process does not expose its process handle, so the parent opens one by
// PID. That PID cannot have been reused: os.Process holds a handle to the
// child until it is waited for, and Windows does not reuse the ID of a
// process while a handle to it is open.
func startCmd(cmd *exec.Cmd) (sysProc, error) {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return sysProc{}, fmt.Errorf("creating a job object: %w", err)
	}
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{
		BasicLimitInformation: windows.JOBOBJECT_BASIC_LIMIT_INFORMATION{
			LimitFlags: windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
		},
	}
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		windows.CloseHandle(job)
		return sysProc{}, fmt.Errorf("setting up a job object: %w", err)
	}
	if err := cmd.Start(); err != nil {
		windows.CloseHandle(job)
		return sysProc{}, err
	}
	const access = windows.PROCESS_SET_QUOTA | windows.PROCESS_TERMINATE | windows.SYNCHRONIZE |
		windows.PROCESS_QUERY_LIMITED_INFORMATION
	h, err := windows.OpenProcess(access, false, uint32(cmd.Process.Pid))
	if err == nil {
		if err = windows.AssignProcessToJobObject(job, h); err != nil {
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

// release closes the handles once the child has been reaped; closing the
// job kills anything the child left running in it.
func (s sysProc) release() {
	windows.CloseHandle(s.process)
	windows.CloseHandle(s.jobHandle)
}

// terminateProcess ends the child with TerminateProcess and an exit code
// that ExitCode reports as -15; what the child started dies with it, as its
// own children are in jobs that close with it.
func terminateProcess(_ *os.Process, s sysProc) error { return s.end(terminateCode) }

func killProcess(_ *os.Process, s sysProc) error { return s.end(killCode) }

// end terminates the child with code. A child that has exited but is not
// yet reaped makes TerminateProcess fail with ERROR_ACCESS_DENIED: that is
// os.ErrProcessDone, which the callers treat as done.
func (s sysProc) end(code uint32) error {
	err := windows.TerminateProcess(s.process, code)
	if err != nil {
		if ev, werr := windows.WaitForSingleObject(s.process, 0); werr == nil && ev == windows.WAIT_OBJECT_0 {
			return os.ErrProcessDone
		}
	}
	return err
}

func exitCode(ps *os.ProcessState) int {
	if ps == nil {
		return 1
	}
	switch uint32(ps.ExitCode()) {
	case terminateCode:
		return -15
	case killCode:
		return -9
	}
	return ps.ExitCode()
}

// childFiles opens the pipes the marker names, checking that they are
// pipes, and makes them non-inheritable for the programs the child starts.
func childFiles(m bootstrap.Marker) (boot, report *os.File, err error) {
	hs := [2]windows.Handle{windows.Handle(m.Boot), windows.Handle(m.Report)}
	for _, h := range hs {
		if t, err := windows.GetFileType(h); err != nil || t != windows.FILE_TYPE_PIPE {
			return nil, nil, errors.New("mp: marker names no inherited pipe")
		}
	}
	for _, h := range hs {
		_ = windows.SetHandleInformation(h, windows.HANDLE_FLAG_INHERIT, 0)
	}
	return os.NewFile(uintptr(hs[0]), "mp-boot"), os.NewFile(uintptr(hs[1]), "mp-report"), nil
}

// readBoot reads the bootstrap. Anonymous pipes on Windows have no read
// deadlines; a stray marker is caught by the pipe-type check.
func readBoot(f *os.File, nonce string) (*bootstrap.Boot, error) {
	return bootstrap.ReadBoot(f, nonce)
}
