package mp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-mp/mp/internal/inherit"
	"github.com/go-mp/mp/internal/shm"
	"github.com/go-mp/mp/spawn"
)

// Process runs a target in a child process, like Python's
// multiprocessing.Process. Set its fields, then call Start; the fields must
// not be changed after Start. A Process is safe for concurrent use by
// multiple goroutines once started.
//
// Exit codes follow Python: 0 when the target returned (or returned a nil
// error), 1 when it returned an error or panicked, -N when the child was
// killed by signal N (Terminate gives -15, Kill -9, on every OS), and N when
// the target called os.Exit(N). A fatal error of the Go runtime in the child,
// such as a panic in a goroutine the target started, exits with 2.
type Process struct {
	// Target is what the child runs: a top-level function registered with
	// Main or Register, or a Runner value whose type is registered. It must
	// be set before Start.
	Target any

	// Args are the arguments of a function Target, checked against its
	// parameter types at Start and carried to the child as values (see
	// Values in the package documentation).
	// A Runner target takes none: its exported fields are carried instead.
	Args []any

	// Name is the process name. If empty, Start names the process
	// "Process-N", or "Process-N:M" for the M-th child of a child named
	// Process-N, as Python does. NewProcess sets it at once.
	Name string

	// Daemon marks a daemon process: Shutdown terminates it instead of
	// joining it, and it may not start children of its own. The zero value
	// makes a non-daemon process.
	Daemon bool

	// StartMethod is how the child is started. If zero, the method set with
	// SetStartMethod (by default Spawn) is used.
	StartMethod StartMethod

	// Env is the child's environment, in os/exec form. If nil, the child
	// gets the parent's environment as of Start.
	Env []string

	// Dir is the child's working directory. If empty, the child starts in
	// the parent's working directory as of Start.
	Dir string

	// Stdin is the child's standard input. If nil, the child reads from the
	// null device, as Python's children do.
	Stdin io.Reader

	// Stdout and Stderr receive the child's standard output and error. If
	// nil, the child inherits the parent's. A writer that is not an *os.File
	// is fed by a goroutine, as with os/exec, and Join waits for it.
	Stdout, Stderr io.Writer

	// AuthKey is the process's authentication key (Python's authkey): a
	// secret that the processes of one tree share, for authenticating the
	// connections between them. If nil, the child inherits the key of the
	// calling process; the main process's is random.
	AuthKey []byte

	mu       sync.Mutex
	state    procState
	role     procRole
	pid      int
	identity []int
	done     chan struct{}
	proc     *os.Process
	sys      sysProc // per-OS state (a Job Object on Windows)
	code     int
	err      error // Join's error, set at exit
}

type procState int

const (
	stateNew procState = iota
	stateStarted
	stateExited
	stateClosed
)

type procRole int

const (
	roleChild  procRole = iota // started (or to be started) by this process
	roleSelf                   // CurrentProcess
	roleParent                 // ParentProcess
)

// NewProcess returns a Process that will run target with args, named
// "Process-N" as Python names it.
func NewProcess(target any, args ...any) *Process {
	p := &Process{Target: target, Args: args}
	p.name()
	return p
}

// name gives p its identity and, unless set, its default name.
func (p *Process) name() {
	if p.identity != nil {
		return
	}
	cur := CurrentProcess()
	n := int(self.children.Add(1))
	p.identity = append(append([]int(nil), cur.identity...), n)
	if p.Name == "" {
		parts := make([]string, len(p.identity))
		for i, id := range p.identity {
			parts[i] = strconv.Itoa(id)
		}
		p.Name = "Process-" + strings.Join(parts, ":")
	}
}

func newSelf(name string, identity []int, daemon bool, key []byte) *Process {
	if key == nil {
		key = newAuthKey()
	}
	p := &Process{Name: name, Daemon: daemon, AuthKey: key, role: roleSelf,
		state: stateStarted, pid: os.Getpid(), identity: identity}
	p.identity = append([]int{}, identity...)
	return p
}

func (p *Process) doneChan() chan struct{} {
	if p.done == nil {
		p.done = make(chan struct{})
	}
	return p.done
}

// Done returns a channel that is closed when the child has exited and its
// exit code is known: Python's sentinel. For ParentProcess it is closed when
// the parent's lifeline closes; for CurrentProcess it is never closed.
func (p *Process) Done() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.doneChan()
}

// Start starts the child process. It returns once the child exists and has
// been sent its work; it does not wait for the target to run. A Process can
// be started only once.
//
// Start checks everything it can before creating anything: a target that is
// not registered or is a closure, arguments of the wrong number or type or
// that cannot be encoded, and a Fork global that cannot be encoded all give
// an error and start nothing.
func (p *Process) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.role != roleChild || p.state == stateStarted || p.state == stateExited:
		return ErrAlreadyStarted
	case p.state == stateClosed:
		return ErrClosed
	}
	if err := checkGuard(); err != nil {
		return err
	}
	if CurrentProcess().Daemon {
		return ErrDaemonic
	}
	if p.Target == nil {
		return fmt.Errorf("%w: Target is nil", ErrInvalidTarget)
	}
	t, err := lookup(p.Target)
	if err != nil {
		return err
	}
	method := p.StartMethod
	if method == "" {
		method = GetStartMethod()
	}
	if method != Spawn && method != Fork {
		return fmt.Errorf("%w: %q", ErrInvalidStartMethod, string(method))
	}
	// Connections and queues among the arguments (or a Runner's fields, or
	// the Fork globals) cross as inherited files: collect them while
	// encoding.
	var (
		args    []byte
		globals map[string][]byte
	)
	files, err := collectFiles(func() error {
		var err error
		if args, err = t.encodeArgs(p.Target, p.Args); err != nil {
			return err
		}
		if method == Fork {
			globals, err = inherit.Snapshot()
		}
		return err
	})
	if err != nil {
		return err
	}
	p.name()
	cur := CurrentProcess()
	key := p.AuthKey
	if key == nil {
		key = cur.AuthKey
	}
	boot := &spawn.Boot{
		Nonce:      newNonce(),
		Target:     t.name,
		Args:       args,
		Name:       p.Name,
		Identity:   p.identity,
		Daemon:     p.Daemon,
		Method:     string(method),
		ParentPID:  cur.pid,
		ParentName: cur.Name,
		AuthKey:    key,
		Globals:    globals,
	}
	return p.launch(boot, files)
}

// launch creates the pipes and the child, passes it files (those of the
// connections and queues among its arguments), sends the bootstrap and
// starts the goroutine that waits for the child. p.mu is held.
func (p *Process) launch(boot *spawn.Boot, files []*os.File) error {
	exe, err := executable()
	if err != nil {
		return fmt.Errorf("mp: cannot find the program to re-execute: %w", err)
	}
	bootR, bootW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("mp: %w", err)
	}
	reportR, reportW, err := os.Pipe()
	if err != nil {
		bootR.Close()
		bootW.Close()
		return fmt.Errorf("mp: %w", err)
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Dir = p.Dir
	cmd.Stdin = p.Stdin
	cmd.Stdout, cmd.Stderr = p.Stdout, p.Stderr
	if cmd.Stdout == nil {
		cmd.Stdout = os.Stdout
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	bootH, reportH, fileHs := prepareCmd(cmd, bootR, reportW, files)
	boot.Files = fileHs
	marker := spawn.Marker{Boot: bootH, Report: reportH, Nonce: boot.Nonce}
	cmd.Env = childEnv(p.Env, marker)

	sys, err := startCmd(cmd)
	// The child holds its own copies now; ours would keep the pipes open.
	bootR.Close()
	reportW.Close()
	if err != nil {
		bootW.Close()
		reportR.Close()
		return fmt.Errorf("mp: starting %s: %w", p.Name, err)
	}
	p.proc, p.sys, p.pid = cmd.Process, sys, cmd.Process.Pid
	p.state = stateStarted
	p.doneChan()

	if werr := spawn.WriteBoot(bootW, boot); werr != nil {
		// The child cannot run without its bootstrap: end it, and report
		// why from Start rather than leave a half-started process.
		_ = cmd.Process.Kill()
		go p.wait(cmd, bootW, reportR)
		return fmt.Errorf("mp: sending %s its work: %w", p.Name, werr)
	}
	active.Lock()
	active.set[p] = struct{}{}
	active.Unlock()
	go p.wait(cmd, bootW, reportR)
	return nil
}

// reportGrace bounds how long the waiter reads the report pipe after the
// child has exited; only a descendant that leaked the pipe keeps it open.
const reportGrace = 2 * time.Second

// maxReport bounds what is read from the report pipe: a report, which may
// carry queue items handed over at exit, and a crash dump of all
// goroutines. It is read as it comes: only what a child sends is
// allocated.
const maxReport = spawn.MaxFrame + 32<<20

// wait waits for the child, collects its report and records its exit.
func (p *Process) wait(cmd *exec.Cmd, lifeline, reportR *os.File) {
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(reportR, maxReport))
		// Drain the rest, so that a child with more to say never blocks.
		_, _ = io.Copy(io.Discard, reportR)
		got <- b
	}()
	werr := cmd.Wait()
	var report []byte
	select {
	case report = <-got:
	case <-time.After(reportGrace):
		// A descendant holds the pipe. Closing our end ends the read on
		// Unix; a read of a Windows anonymous pipe cannot be interrupted, so
		// do not wait for it there.
		reportR.Close()
		select {
		case report = <-got:
		case <-time.After(100 * time.Millisecond):
		}
	}
	reportR.Close()
	lifeline.Close()
	started, rep, crash := spawn.ParseReport(report)
	lost := 0
	if rep != nil && (len(rep.Spills) > 0 || rep.Lost > 0) {
		// Queue items the child could not write: put them on their
		// queues before Join returns.
		lost = adoptSpills(rep)
	}

	code := exitCode(cmd.ProcessState)
	var err error
	if cmd.ProcessState == nil {
		code, err = 1, fmt.Errorf("mp: waiting for %s: %w", p.Name, werr)
	} else {
		err = exitError(p.Name, p.pid, code, started, rep, crash)
	}
	if lost > 0 {
		lerr := fmt.Errorf("mp: %s (pid %d): %d queue items it put could not be handed to a process holding the queue: %w",
			p.Name, p.pid, lost, ErrItemsLost)
		err = errors.Join(err, lerr)
	}
	p.mu.Lock()
	p.code, p.err = code, err
	if p.state == stateStarted {
		p.state = stateExited
	}
	// Under the lock, and after the state says exited, so that Terminate
	// and Kill never use a handle released here.
	p.sys.release()
	close(p.done)
	p.mu.Unlock()
}

// Run runs the target in the calling process, as Python's run() does: a
// function target is called with Args (checked as Start checks them), a
// Runner's Run method is called. A panic in the target is not recovered.
func (p *Process) Run() error {
	if r, ok := p.Target.(Runner); ok {
		return r.Run()
	}
	// Run needs neither a registered nor a top-level function: any function
	// with the right results will do.
	v := reflect.ValueOf(p.Target)
	if v.Kind() != reflect.Func || v.IsNil() {
		return fmt.Errorf("%w: %T is neither a function nor a Runner", ErrInvalidTarget, p.Target)
	}
	t, err := funcTarget(v.Type().String(), v)
	if err != nil {
		return err
	}
	in, err := t.convertArgs(p.Args)
	if err != nil {
		return err
	}
	return t.call(in)
}

func (p *Process) checkChild() error {
	if p.role != roleChild {
		return ErrNotChild
	}
	switch p.state {
	case stateNew:
		return ErrNotStarted
	case stateClosed:
		return ErrClosed
	}
	return nil
}

// Join waits for the child to exit. It returns nil if the child ran its
// target and exited with code 0, and otherwise an *ExitError that carries the exit code, the error
// the target returned, or the panic value and stack of a panicking target.
// Join may be called any number of times, from any goroutine; later calls
// return the same result.
func (p *Process) Join() error {
	return p.JoinContext(context.Background())
}

// JoinTimeout is Join waiting at most d. If the child is still running
// then, it returns an error wrapping ErrStillRunning. A d of zero or less
// does not wait.
func (p *Process) JoinTimeout(d time.Duration) error {
	p.mu.Lock()
	if err := p.checkChild(); err != nil {
		p.mu.Unlock()
		return err
	}
	done := p.done
	p.mu.Unlock()
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
		}
	}
	select {
	case <-done:
		return p.joined()
	default:
		return fmt.Errorf("mp: %s still running after %v: %w", p.Name, d, ErrStillRunning)
	}
}

// JoinContext is Join until ctx is done. If ctx ends first it returns an
// error wrapping both ctx.Err() and ErrStillRunning.
func (p *Process) JoinContext(ctx context.Context) error {
	p.mu.Lock()
	if err := p.checkChild(); err != nil {
		p.mu.Unlock()
		return err
	}
	done := p.done
	p.mu.Unlock()
	select {
	case <-done:
		return p.joined()
	case <-ctx.Done():
		select {
		case <-done:
			return p.joined()
		default:
		}
		return fmt.Errorf("mp: joining %s: %w (%w)", p.Name, ctx.Err(), ErrStillRunning)
	}
}

func (p *Process) joined() error {
	forget(p)
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// IsAlive reports whether the process has been started and has not yet
// exited. For CurrentProcess it is true; for ParentProcess it reports
// whether the parent's lifeline is still open.
func (p *Process) IsAlive() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.role == roleParent {
		select {
		case <-p.doneChan():
			return false
		default:
			return true
		}
	}
	return p.state == stateStarted
}

// ExitCode returns the child's exit code and true once it has exited, and
// 0, false before (Python's None). See Process for the codes.
func (p *Process) ExitCode() (code int, exited bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.role != roleChild || p.state == stateNew || p.state == stateStarted {
		return 0, false
	}
	return p.code, true
}

// PID returns the process ID, or 0 before Start.
func (p *Process) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid
}

// Terminate asks the child to exit: SIGTERM on Unix, and on Windows
// TerminateProcess with an exit code that ExitCode reports as -15. Go
// programs die of SIGTERM unless they handle it. Terminating a child that
// has exited does nothing and returns nil.
func (p *Process) Terminate() error { return p.signal(false) }

// Kill ends the child at once: SIGKILL on Unix, TerminateProcess on
// Windows; ExitCode then reports -9. Killing a child that has exited does
// nothing and returns nil.
func (p *Process) Kill() error { return p.signal(true) }

func (p *Process) signal(kill bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.checkChild(); err != nil {
		return err
	}
	if p.state == stateExited {
		return nil
	}
	var err error
	if kill {
		err = killProcess(p.proc, p.sys)
	} else {
		err = terminateProcess(p.proc, p.sys)
	}
	if err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("mp: signalling %s: %w", p.Name, err)
	}
	return nil
}

// Close releases what the Process holds. It returns ErrStillRunning while
// the child runs; afterwards every method but Close, PID and ExitCode
// returns ErrClosed. Closing twice is harmless.
func (p *Process) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.role != roleChild {
		return ErrNotChild
	}
	if p.state == stateStarted {
		return fmt.Errorf("mp: closing %s: %w", p.Name, ErrStillRunning)
	}
	if p.state == stateExited {
		forget(p)
		_ = p.proc.Release()
		p.proc = nil
	}
	p.state = stateClosed
	return nil
}

// String describes p like Python's repr: name, PID and state.
func (p *Process) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var st string
	switch {
	case p.role == roleSelf || p.role == roleParent:
		st = "started"
	case p.state == stateNew:
		st = "initial"
	case p.state == stateStarted:
		st = "started"
	case p.state == stateExited:
		st = "stopped exitcode=" + strconv.Itoa(p.code)
	case p.state == stateClosed:
		st = "closed"
	}
	if p.Daemon {
		st += " daemon"
	}
	if p.pid != 0 && p.state != stateExited {
		return fmt.Sprintf("<Process name=%q pid=%d %s>", p.Name, p.pid, st)
	}
	return fmt.Sprintf("<Process name=%q %s>", p.Name, st)
}

// childEnv is env (nil: ours) without any stray marker, plus the marker.
func childEnv(env []string, m spawn.Marker) []string {
	if env == nil {
		env = os.Environ()
	}
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, spawn.EnvVar+"=") && !strings.HasPrefix(kv, shm.TreeEnv+"=") {
			out = append(out, kv)
		}
	}
	// The child is of this process's tree, for shared memory's names.
	return append(out, spawn.EnvVar+"="+m.String(), processTree().Env())
}

var executable = sync.OnceValues(os.Executable)

func newNonce() string {
	return fmt.Sprintf("%x", newAuthKey()[:16])
}
