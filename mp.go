package mp

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

// StartMethod says how a child process is started. The zero value means the
// method set with [SetStartMethod], which is [Spawn] unless changed.
type StartMethod string

const (
	// Spawn starts the child from the program's initial state: package
	// variables as initialised, init functions run, main up to mp.Main. Only
	// the target and its arguments cross. This is the default on every OS.
	Spawn StartMethod = "spawn"
	// Fork starts the child as Spawn does, then gives it the values, as of
	// Start, of the globals registered with isolation.Inherit, before the
	// target runs. It is Go's stand-in for fork(2); see package isolation
	// for what is and is not carried.
	Fork StartMethod = "fork"
	// Forkserver gives the work to a child started ahead of time, which
	// waits for it just past mp.Main, and starts another in the
	// background to take its place (see SetForkserverPreload). Go cannot
	// fork, so the children are the program re-executed, as Spawn's are,
	// and what they start from is Spawn's: the program's initial state,
	// never the parent's; only the target and its arguments cross. It is
	// named after Python's method of the same purpose: paying start-up
	// ahead of time. See "Forkserver" in the package documentation for
	// when a Start is cold instead.
	Forkserver StartMethod = "forkserver"
)

// AllStartMethods returns the start methods this platform supports, the
// default first: Spawn, Fork and Forkserver on every OS.
func AllStartMethods() []StartMethod { return []StartMethod{Spawn, Fork, Forkserver} }

// valid reports whether m is one of AllStartMethods.
func (m StartMethod) valid() bool { return m == Spawn || m == Fork || m == Forkserver }

var defaultMethod atomic.Value // StartMethod

// SetStartMethod sets the start method used by processes whose StartMethod
// field is zero. It affects later calls to Start. A child starts with the
// method it was started with as its default, as Python's does, so that
// the children of a Fork child are forked too.
func SetStartMethod(m StartMethod) error {
	if !m.valid() {
		return fmt.Errorf("%w: %q (want %q, %q or %q)", ErrInvalidStartMethod, string(m), Spawn, Fork, Forkserver)
	}
	defaultMethod.Store(m)
	return nil
}

// GetStartMethod returns the start method used by processes whose
// StartMethod field is zero: in a child, unless it has called
// SetStartMethod, the method the child was started with.
func GetStartMethod() StartMethod {
	if m, ok := defaultMethod.Load().(StartMethod); ok {
		return m
	}
	return Spawn
}

// CPUCount returns the number of logical CPUs usable by this process, like
// Python's os.cpu_count (runtime.NumCPU respects the CPU affinity mask).
func CPUCount() int { return runtime.NumCPU() }

// mainCalled is set once Main has registered its targets.
var mainCalled atomic.Bool

// Main is the main guard: the first statement of main, and of TestMain in
// tests that start processes.
//
//	func main() {
//		mp.Main(worker)
//		...
//	}
//
// In the parent, Main registers targets (see [Register]) and returns. In a
// child, it registers them, runs the target its parent asked for, and exits
// the process with the target's exit code: it never returns. Code before
// Main, including package initialisation, runs again in every child: this is
// the Go counterpart of Python re-importing the main module, which is why
// Python needs if __name__ == "__main__".
func Main(targets ...any) {
	shmMain()
	Register(targets...)
	mainCalled.Store(true)
	c, err := detectChild()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%v\n", err)
		os.Exit(1)
	}
	if c != nil {
		c.run() // does not return
	}
}

// process identity: the main process is "MainProcess"; a child's identity
// comes from its bootstrap.
var self = struct {
	once     sync.Once
	proc     *Process
	parent   *Process
	children atomic.Int64 // how many children this process has named
}{}

// CurrentProcess returns the Process object of the calling process: in the
// main process one named "MainProcess", in a child the one its parent
// started (same Name, Daemon, PID). It cannot be joined or terminated.
func CurrentProcess() *Process {
	self.once.Do(func() {
		if self.proc == nil {
			self.proc = newSelf("MainProcess", nil, false, nil)
		}
	})
	return self.proc
}

// ParentProcess returns the Process object of the parent of the calling
// process, or nil in the main process. Its IsAlive and Done follow the
// parent's lifeline.
func ParentProcess() *Process {
	CurrentProcess()
	return self.parent
}

// newAuthKey returns 32 random bytes.
func newAuthKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k) // never fails (crypto/rand, Go 1.24)
	return k
}

// active tracks the children this process started and has not closed.
var active = struct {
	sync.Mutex
	set map[*Process]struct{}
}{set: map[*Process]struct{}{}}

// ActiveChildren returns the children of the calling process that are
// alive, in no particular order. Like Python's active_children it forgets
// children that have exited.
func ActiveChildren() []*Process {
	var out []*Process
	for _, p := range children() {
		// IsAlive takes p's lock: never hold it with the set's.
		if p.IsAlive() {
			out = append(out, p)
		} else {
			forget(p)
		}
	}
	return out
}

// children returns the set of children not yet forgotten.
func children() []*Process {
	active.Lock()
	defer active.Unlock()
	all := make([]*Process, 0, len(active.set))
	for p := range active.set {
		all = append(all, p)
	}
	return all
}

func forget(p *Process) {
	active.Lock()
	delete(active.set, p)
	active.Unlock()
}

// Shutdown does what Python does when its main module ends: it terminates
// the daemon children of the calling process, then joins all of its
// children, then runs the functions registered with AtExit. It also ends
// the children that wait for work under Forkserver (a later Forkserver
// Start starts them again). A program that wants that behaviour says so
// with
//
//	defer mp.Shutdown()
//
// right after mp.Main. Without it, children still never outlive their
// parent: when the parent exits, for whatever reason, each child sees its
// lifeline close and exits at once, or within its GracePeriod (see "No
// orphans" in the package documentation). A child runs Shutdown itself
// when its target returns. ShutdownContext is Shutdown with a deadline.
func Shutdown() { _ = ShutdownContext(context.Background()) }
