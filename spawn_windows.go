package mp

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/go-mp/mp/spawn"
)

// Exit codes that Terminate and Kill give a Windows child, so that ExitCode
// can report -15 and -9 as on Unix ("MP" and the signal number).
const (
	terminateCode = 0x4D50_000F
	killCode      = 0x4D50_0009
)

// sysProc holds a Windows child's Job Object, created with
// JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE: when the parent dies in any way the
// system closes its handle and the child, with anything it started, is
// killed.
type sysProc struct {
	jobHandle windows.Handle
}

// inheritFiles passes the pipes as inherited handles. os/exec's ExtraFiles
// is not supported on Windows (golang/go#26182); AdditionalInheritedHandles
// goes into PROC_THREAD_ATTRIBUTE_HANDLE_LIST, so the child inherits these
// handles and its standard handles only.
func inheritFiles(cmd *exec.Cmd, boot, report *os.File) (uintptr, uintptr) {
	hs := []windows.Handle{windows.Handle(boot.Fd()), windows.Handle(report.Fd())}
	for _, h := range hs {
		_ = windows.SetHandleInformation(h, windows.HANDLE_FLAG_INHERIT, windows.HANDLE_FLAG_INHERIT)
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	for _, h := range hs {
		cmd.SysProcAttr.AdditionalInheritedHandles = append(cmd.SysProcAttr.AdditionalInheritedHandles, syscall.Handle(h))
	}
	return uintptr(hs[0]), uintptr(hs[1])
}

// startCmd creates the child's Job Object and starts the child, which joins
// the job itself before any target code runs. Go cannot create a process
// inside a job (golang/go#79927), and assigning it from the parent would
// need a process handle that os.Process does not expose; the child holds
// the handle it inherits only until it has joined.
//
// The child is also put in a new process group, so that a console Ctrl-C
// reaches the parent, which decides what its children get, and not the
// children directly.
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
	_ = windows.SetHandleInformation(job, windows.HANDLE_FLAG_INHERIT, windows.HANDLE_FLAG_INHERIT)
	cmd.SysProcAttr.AdditionalInheritedHandles = append(cmd.SysProcAttr.AdditionalInheritedHandles, syscall.Handle(job))
	cmd.SysProcAttr.CreationFlags |= windows.CREATE_NEW_PROCESS_GROUP
	err = cmd.Start()
	// Later children must not inherit this job.
	_ = windows.SetHandleInformation(job, windows.HANDLE_FLAG_INHERIT, 0)
	if err != nil {
		windows.CloseHandle(job)
		return sysProc{}, err
	}
	return sysProc{jobHandle: job}, nil
}

func (s sysProc) job() uint64 { return uint64(s.jobHandle) }

// release closes the job once the child has been reaped: anything the child
// left running in it is killed.
func (s sysProc) release() {
	if s.jobHandle != 0 {
		windows.CloseHandle(s.jobHandle)
	}
}

// terminateProcess ends the child (and anything it started) through its Job
// Object, with an exit code that reads as -15.
func terminateProcess(p *os.Process, s sysProc) error { return endJob(p, s, terminateCode) }

func killProcess(p *os.Process, s sysProc) error { return endJob(p, s, killCode) }

func endJob(p *os.Process, s sysProc, code uint32) error {
	if s.jobHandle == 0 {
		return p.Kill()
	}
	return windows.TerminateJobObject(s.jobHandle, code)
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
func childFiles(m spawn.Marker) (boot, report *os.File, err error) {
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
func readBoot(f *os.File, nonce string) (*spawn.Boot, error) {
	return spawn.ReadBoot(f, nonce)
}

// confine joins the Job Object the parent created for this child, then
// closes the inherited handle, so that only the parent's handle keeps the
// job open.
func confine(b *spawn.Boot) error {
	if b.Job == 0 {
		return nil
	}
	job := windows.Handle(b.Job)
	defer windows.CloseHandle(job)
	if err := windows.AssignProcessToJobObject(job, windows.CurrentProcess()); err != nil {
		return fmt.Errorf("mp: joining the parent's job object: %w", err)
	}
	return nil
}
