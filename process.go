package mp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-mp/mp/internal/bootstrap"
	"github.com/go-mp/mp/internal/handles"
	"github.com/go-mp/mp/internal/inherit"
	"github.com/go-mp/mp/internal/launch"
	"github.com/go-mp/mp/internal/shm"
	"github.com/go-mp/mp/spawn"
)

// Process runs a target in a child process, like Python's
// multiprocessing.Process. Set its fields, then call Start; the fields must
// not be changed after Start. A Process is safe for concurrent use by
// multiple goroutines once started.
//
// Exit codes follow Python: 0 when the target returned (or returned a nil
// error), 1 when it returned an error, panicked or called runtime.Goexit
// (whose deferred calls run first), -N when the child was killed by signal
// N (Terminate gives -15, Kill -9, on every OS), and N when the target
// called os.Exit(N). A fatal error of the Go runtime in the child, such as
// a panic in a goroutine the target started, exits with 2.
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
	// SetStartMethod (by default Spawn) is used. Under Forkserver, setting
	// Env (to other than the parent's environment) or Dir makes the Start a
	// cold one, as does setting Stdin, Stdout or Stderr on Windows (see
	// "Forkserver" in the package documentation).
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
	// is fed by a goroutine, as with os/exec, through a pipe, and Join waits
	// for the goroutine to copy what the child wrote, but no more than two
	// seconds after the child has exited: a process the child started, and
	// left running with the pipe, would otherwise hold Join until it ends.
	// Then Join closes the pipe, and what comes later is lost
	// (exec.Cmd.WaitDelay). The same holds for a Stdin that is not an
	// *os.File.
	Stdout, Stderr io.Writer

	// GracePeriod is how long the child has to return once it is asked to
	// stop, by Terminate, or by its parent's death. Then the context of a
	// target that takes one (a function whose first parameter is a
	// context.Context, or a RunnerContext) is cancelled, with ErrTerminated
	// or ErrParentDied as its cause (context.Cause), and
	// ParentProcess().Done() closes if the parent died. A child that has
	// not returned when the grace period ends is ended: one terminated
	// exits with -15, as if Terminate had killed it, and one whose parent
	// died with 1. A terminated child that returns in time also exits with
	// -15, once its AtExit functions have run and its queues are flushed.
	// So a child never outlives its parent by more than GracePeriod.
	//
	// The zero value gives no grace: Terminate sends SIGTERM, which kills
	// a Go program at once (on Windows, TerminateProcess), and the child
	// exits the moment its parent dies. With a grace period, Terminate
	// sends SIGTERM on Unix too (a SIGTERM from elsewhere counts the same),
	// and writes a request on the child's lifeline on Windows; there the
	// parent also ends the child with TerminateProcess a second after the
	// grace period, should it still run (a child still starting up reads
	// no request). A child with a grace period learns of its parent's
	// death from its lifeline alone, once it runs: on Linux it has no
	// PR_SET_PDEATHSIG, and on Windows it holds its own Job Object open,
	// so that the job does not kill it with its parent (see "No orphans"
	// in the package documentation). As it is started otherwise, a
	// Forkserver Start with a grace period is a cold one: it takes no
	// child that waits for work.
	GracePeriod time.Duration

	// Quiet stops the child from printing, on its standard error, what
	// made its target fail (see SetQuiet). Join's error carries it either
	// way. The zero value prints it, unless SetQuiet(true) was called.
	Quiet bool

	// AuthKey is the process's authentication key (Python's authkey): a
	// secret that the processes of one tree share, for authenticating the
	// connections between them. If nil, the child inherits the key of the
	// calling process; the main process's is random.
	AuthKey []byte

	mu        sync.Mutex
	state     procState
	role      procRole
	pid       int
	parentPID int    // the PID of the process that made p; 0 if unknown
	kind      string // String's type name for CurrentProcess in a child
	identity  []int
	booted    bool // the bootstrap and files have been sent
	done      chan struct{}
	child     *launch.Child
	code      int
	err       error // Join's error, set at exit
}

type procState int

const (
	stateNew      procState = iota
	stateStarting           // Start is creating the child, or sending it its work
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

// name gives p its identity and, unless set, its default name: the kind
// of process ("Process", or a Runner's type name, as Python names a
// Process subclass) and its identity, "Process-1:2".
func (p *Process) name() {
	if p.identity != nil {
		return
	}
	cur := CurrentProcess()
	n := int(self.children.Add(1))
	p.identity = append(append([]int(nil), cur.identity...), n)
	p.parentPID = cur.pid
	if p.Name == "" {
		parts := make([]string, len(p.identity))
		for i, id := range p.identity {
			parts[i] = strconv.Itoa(id)
		}
		p.Name = kindOf(p.Target) + "-" + strings.Join(parts, ":")
	}
}

// kindOf is what Python's type(p).__name__ would say of a Process running
// target: the type name of a Runner, "Process" for anything else.
func kindOf(target any) string {
	if isRunner(target) {
		typ := reflect.TypeOf(target)
		if typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		if typ.Name() != "" {
			return typ.Name()
		}
	}
	return "Process"
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
// that cannot be encoded, a Fork global that cannot be encoded, and work
// over the bootstrap's size limit (1 GiB) all give an error and start
// nothing; the Process can then be started again. If the child was created
// but could not be sent its work (it died, or was killed, first), Start
// returns an error once the child has been reaped: the Process has exited,
// and IsAlive, Join and ExitCode say so.
//
// Other goroutines may call IsAlive, PID, Terminate and Kill while Start
// runs, and get their answers at once: Start does not hold the Process
// while it sends the work, which waits for a child that is slow to read a
// large one. Until the child exists, the Process is not started.
func (p *Process) Start() error {
	p.mu.Lock()
	switch {
	case p.role != roleChild || p.state == stateStarting || p.state == stateStarted || p.state == stateExited:
		p.mu.Unlock()
		return ErrAlreadyStarted
	case p.state == stateClosed:
		p.mu.Unlock()
		return ErrClosed
	}
	p.state = stateStarting
	p.name()
	p.mu.Unlock()
	err := p.start()
	if err != nil {
		p.mu.Lock()
		if p.state == stateStarting {
			p.state = stateNew // nothing was started
		}
		p.mu.Unlock()
	}
	return err
}

// start does Start's work without holding p.mu, which IsAlive, Kill and
// Terminate take meanwhile: encoding the work and sending it, which waits
// for a child slow to read a large bootstrap. Only Start moves p out of
// stateStarting.
func (p *Process) start() error {
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
	if err := t.checkProcessTarget(); err != nil {
		return err
	}
	method := p.StartMethod
	if method == "" {
		method = GetStartMethod()
	}
	if !method.valid() {
		return fmt.Errorf("%w: %q", ErrInvalidStartMethod, string(method))
	}
	// Connections and queues among the arguments (or a Runner's fields, or
	// the Fork globals) cross with their files.
	carried := []any{p.Target, p.Args}
	if method == Fork {
		carried = append(carried, inherit.Pointers()...)
	}
	sets, err := passables.Find(carried...)
	if err != nil {
		return passError(err)
	}
	args, err := t.encodeArgs(p.Target, p.Args)
	if err != nil {
		return err
	}
	var globals map[string][]byte
	if method == Fork {
		if globals, err = inherit.Snapshot(); err != nil {
			return err
		}
	}
	cur := CurrentProcess()
	key := p.AuthKey
	if key == nil {
		key = cur.AuthKey
	}
	files, passed := handles.Flatten(sets)
	logOn, logLevel := inheritedLog()
	boot := &bootstrap.Boot{
		Target:     t.name,
		Args:       args,
		Name:       p.Name,
		Identity:   p.identity,
		Daemon:     p.Daemon,
		Grace:      int64(max(p.GracePeriod, 0)),
		Quiet:      p.Quiet || quietAll.Load(),
		QuietAll:   quietAll.Load(),
		Method:     string(method),
		ParentPID:  cur.pid,
		ParentName: cur.Name,
		AuthKey:    key,
		Globals:    globals,
		Passed:     passed,
		LogStderr:  logOn,
		LogLevel:   logLevel,
	}
	spec, err := p.spec()
	if err != nil {
		return err
	}
	if method == Forkserver {
		// A child that waits, started as this one would be, if there is
		// one; else a cold start, as Spawn's.
		for {
			w, std := server.take(spec)
			if w == nil {
				break
			}
			if done, err := p.handover(w, std, boot, files); done {
				return err
			}
		}
	}
	boot.Nonce = newNonce()
	frame, err := p.encodeBoot(boot)
	if err != nil {
		return err
	}
	return p.launch(spec, frame, boot.Nonce, files)
}

// encodeBoot encodes the bootstrap, or says it is too large.
func (p *Process) encodeBoot(boot *bootstrap.Boot) ([]byte, error) {
	frame, err := bootstrap.EncodeBoot(boot, maxBoot)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrArgs, p.Name, err)
	}
	return frame, nil
}

// maxBoot is the bootstrap's size limit (a variable for tests).
var maxBoot = bootstrap.MaxFrame

// passError is Start's error for what the search for passable values
// found: one that cannot be passed, or a value nested too deeply to look
// into (which the codec refuses too, as ErrBadMessage).
func passError(err error) error {
	if errors.Is(err, handles.ErrTooDeep) {
		return fmt.Errorf("%w: %w: %w", ErrArgs, ErrBadMessage, err)
	}
	return err
}

// spec is how Spawn starts p's child, but for the marker: the program,
// os.Args, the environment (Env, or the parent's now), the working
// directory, and the standard files (Stdout and Stderr, or the parent's
// now).
func (p *Process) spec() (*launch.Spec, error) {
	exe, err := spawn.Executable()
	if err != nil {
		return nil, err
	}
	stdout, stderr := p.Stdout, p.Stderr
	if stdout == nil {
		stdout = os.Stdout
	}
	if stderr == nil {
		stderr = os.Stderr
	}
	env := p.Env
	if env == nil {
		env = os.Environ()
	}
	return &launch.Spec{
		Path:        exe,
		Args:        os.Args,
		Env:         childEnv(env),
		Dir:         p.Dir,
		Stdin:       p.Stdin,
		Stdout:      stdout,
		Stderr:      stderr,
		WaitDelay:   outputDelay,
		NoPdeathsig: noPdeathsig,
		Graceful:    p.GracePeriod > 0,
	}, nil
}

// launch creates the child as spec says, starts the goroutine that waits
// for it, and sends it the bootstrap and the files that follow it. p.mu is
// not held.
func (p *Process) launch(spec *launch.Spec, boot []byte, nonce string, files []*os.File) error {
	spec.Marker = func(bootH, reportH uintptr) string {
		return bootstrap.EnvVar + "=" + bootstrap.Marker{Boot: bootH, Report: reportH, Nonce: nonce}.String()
	}
	child, err := launch.Start(spec)
	if err != nil {
		return fmt.Errorf("mp: starting %s: %w", p.Name, err)
	}
	p.mu.Lock()
	p.child, p.pid = child, child.Pid()
	p.state = stateStarted
	done := p.doneChan()
	p.mu.Unlock()
	go func() { p.exited(watch(child, func() childReport { return readReport(child.Report) })) }()
	return p.send(child, done, boot, files, nil)
}

// send sends the child its bootstrap and the files that follow it, and
// std, its new standard files (a Forkserver child's). If it cannot, the
// child cannot run: send ends it, and returns only once it has been
// reaped (done), so that the Process is not left half alive.
func (p *Process) send(child *launch.Child, done <-chan struct{}, boot []byte, files []*os.File, std *launch.Std) error {
	_, err := child.Boot.Write(boot)
	if err == nil && std != nil {
		var stdFiles []*os.File
		var release func()
		if stdFiles, release, err = child.Redirect(*std); err == nil {
			defer release()
			files = append(files[:len(files):len(files)], stdFiles...)
		}
	}
	if err == nil {
		err = sendFiles(child, files)
	}
	if err != nil {
		// The child cannot run without its bootstrap (it died, or was
		// killed, before it took it): end it, and return only once it
		// has been reaped, so that the Process is not left half alive.
		_ = kill(child)
		<-done
		return fmt.Errorf("mp: sending %s its work: %w", p.Name, err)
	}
	p.mu.Lock()
	p.booted = true // the lifeline is free for a request to stop
	p.mu.Unlock()
	active.Lock()
	active.set[p] = struct{}{}
	active.Unlock()
	logInfo("started", "name", p.Name, "pid", p.pid)
	return nil
}

// reportGrace bounds how long the waiter reads the report pipe after the
// child has exited; only a descendant that leaked the pipe keeps it open.
const reportGrace = 2 * time.Second

// outputDelay bounds how long Join waits, after the child has exited, for
// the goroutines that copy Stdin, Stdout and Stderr (exec.Cmd.WaitDelay).
const outputDelay = 2 * time.Second

// maxCrash bounds the crash output kept from the report pipe: a dump of
// all goroutines. The report itself is read whole.
const maxCrash = 16 << 20

// childReport is what the waiter read from the report pipe.
type childReport struct {
	started bool
	rep     *bootstrap.Report
	crash   string
}

// readReport reads what a child writes on its report pipe, until its end.
func readReport(r io.Reader) childReport {
	var c childReport
	c.started, c.rep, c.crash, _ = bootstrap.ReadReport(r, maxCrash)
	return c
}

// ended is how a child ended, as its watcher saw it: its exit status (nil
// if the wait failed, with werr) and its report.
type ended struct {
	ps     *os.ProcessState
	werr   error
	report childReport
}

// watch waits for child to exit, while read reads its report pipe, and
// releases the parent's ends of its channels.
func watch(child *launch.Child, read func() childReport) ended {
	reportR := child.Report
	got := make(chan childReport, 1)
	go func() { got <- read() }()
	ps, werr := child.Wait()
	var report childReport
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
	child.Boot.Close() // the lifeline
	return ended{ps: ps, werr: werr, report: report}
}

// exited records how p's child ended.
func (p *Process) exited(e ended) {
	started, rep, crash := e.report.started, e.report.rep, e.report.crash
	lost := 0
	if rep != nil && (len(rep.Spills) > 0 || rep.Lost > 0) {
		// Queue items the child could not write: put them on their
		// queues before Join returns.
		lost = adoptSpills(rep)
	}
	code := launch.ExitCode(e.ps)
	var err error
	if e.ps == nil {
		code, err = 1, fmt.Errorf("mp: waiting for %s: %w", p.Name, e.werr)
	} else {
		err = exitError(p.Name, p.pid, code, started, rep, crash)
	}
	if lost > 0 {
		lerr := fmt.Errorf("mp: %s (pid %d): %d queue items it put could not be handed to a process holding the queue: %w",
			p.Name, p.pid, lost, ErrItemsLost)
		err = errors.Join(err, lerr)
	}
	logInfo("exited", "name", p.Name, "pid", p.pid, "exitcode", code)
	p.mu.Lock()
	p.code, p.err = code, err
	if p.state == stateStarted {
		p.state = stateExited
	}
	close(p.done)
	p.mu.Unlock()
}

// Run runs the target in the calling process, as Python's run() does: a
// function target is called with Args (checked as Start checks them), a
// Runner's Run method is called. A target that takes a context gets
// context.Background(). A panic in the target is not recovered.
func (p *Process) Run() error {
	if isRunner(p.Target) {
		return runOf(p.Target)(context.Background())
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
	if err := t.checkProcessTarget(); err != nil {
		return err
	}
	in, err := t.convertArgs(p.Args)
	if err != nil {
		return err
	}
	return t.call(context.Background(), in)
}

func (p *Process) checkChild() error {
	if p.role != roleChild {
		return ErrNotChild
	}
	switch p.state {
	case stateNew, stateStarting:
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
	if p.role != roleChild || p.state == stateNew || p.state == stateStarting || p.state == stateStarted {
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
// programs die of SIGTERM unless they handle it. A child with a
// GracePeriod is asked instead, and has that long to return (see
// GracePeriod); it exits with -15 too. Terminating a child that has
// exited does nothing and returns nil.
func (p *Process) Terminate() error { return p.signal("terminating", p.terminate) }

// Kill ends the child at once: SIGKILL on Unix, TerminateProcess on
// Windows; ExitCode then reports -9. Killing a child that has exited does
// nothing and returns nil.
func (p *Process) Kill() error { return p.signal("killing", kill) }

// Interrupt interrupts the child, as Python 3.14's interrupt does: SIGINT
// on Unix, and CTRL_BREAK_EVENT to the child's console process group on
// Windows, which Go delivers as os.Interrupt too. A child whose target does
// not handle os.Interrupt (with signal.Notify or signal.NotifyContext) dies
// of it, and ExitCode reports -2 on every OS; one that handles it goes on
// as its target decides. On Windows the child must share the parent's
// console: a parent with none (a service, say) gets the error of
// GenerateConsoleCtrlEvent. Interrupting a child that has exited does
// nothing and returns nil.
func (p *Process) Interrupt() error { return p.signal("interrupting", interrupt) }

func (p *Process) signal(what string, send func(*launch.Child) error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.checkChild(); err != nil {
		return err
	}
	if p.state == stateExited {
		return nil
	}
	logInfo(what, "name", p.Name, "pid", p.pid)
	if err := send(p.child); err != nil && !errors.Is(err, os.ErrProcessDone) {
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
	if p.state == stateStarting || p.state == stateStarted {
		return fmt.Errorf("mp: closing %s: %w", p.Name, ErrStillRunning)
	}
	if p.state == stateExited {
		forget(p)
		_ = p.child.Release()
		p.child = nil
	}
	p.state = stateClosed
	return nil
}

// String describes p in the shape of Python's repr:
//
//	<Process name='Process-1' pid=1234 parent=1200 stopped exitcode=-SIGTERM daemon>
//
// the kind of process (Process, a Runner's type name, _MainProcess, or
// _ParentProcess), its name, PID and parent's PID (None where unknown), its
// state (initial, started, stopped or closed), the exit code once it has
// exited, with a signal's name for -N, and daemon for a daemon process.
func (p *Process) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	kind, parent, st := kindOf(p.Target), "None", "started"
	switch {
	case p.parentPID != 0:
		parent = strconv.Itoa(p.parentPID)
	case p.role == roleChild:
		parent = strconv.Itoa(os.Getpid()) // the process that will start it
	}
	switch {
	case p.role == roleSelf && p.kind != "":
		kind = p.kind
	case p.role == roleSelf:
		kind = "_MainProcess"
	case p.role == roleParent:
		kind = "_ParentProcess"
		select {
		case <-p.doneChan():
			st = "stopped"
		default:
		}
	case p.state == stateNew, p.state == stateStarting:
		st = "initial"
	case p.state == stateExited:
		st = "stopped exitcode=" + exitCodeName(p.code)
	case p.state == stateClosed:
		st = "closed"
	}
	info := []string{kind, "name=" + pyRepr(p.Name)}
	if p.pid != 0 && p.state != stateClosed {
		info = append(info, "pid="+strconv.Itoa(p.pid))
	}
	info = append(info, "parent="+parent, st)
	if p.Daemon {
		info = append(info, "daemon")
	}
	return "<" + strings.Join(info, " ") + ">"
}

// signalNames are the signals whose numbers are the same on every Unix,
// for exit codes as Python's repr names them (-SIGTERM).
var signalNames = map[int]string{1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 6: "SIGABRT",
	8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM"}

func exitCodeName(code int) string {
	if name, ok := signalNames[-code]; ok {
		return "-" + name
	}
	return strconv.Itoa(code)
}

// pyRepr quotes s as Python's repr quotes a plain string: in single
// quotes, or as Go quotes it if it holds a quote or anything unprintable.
func pyRepr(s string) string {
	if q := strconv.Quote(s); !strings.ContainsAny(s, `'"\`) && q == `"`+s+`"` {
		return "'" + s + "'"
	}
	return strconv.Quote(s)
}

// childEnv is env without any stray marker (the child gets its own),
// and with this process's tree of processes, for shared memory's names.
func childEnv(env []string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, bootstrap.EnvVar+"=") && !strings.HasPrefix(kv, shm.TreeEnv+"=") {
			out = append(out, kv)
		}
	}
	return append(out, processTree().Env())
}

func newNonce() string {
	return fmt.Sprintf("%x", newAuthKey()[:16])
}
