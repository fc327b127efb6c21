package mp

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/go-mp/mp/internal/bootstrap"
	"github.com/go-mp/mp/internal/launch"
	"github.com/go-mp/mp/spawn"
)

// The Forkserver start method: children started ahead of time, each
// waiting just past mp.Main for its work (see bootstrap's "Waiting
// children"). A Start under Forkserver takes one that was started as
// Spawn would start its child now, sends it the bootstrap, and a
// goroutine starts another in its place; without one, the Start is cold,
// as Spawn's.

// DefaultForkserverPreload is how many children wait for work under
// Forkserver unless SetForkserverPreload says otherwise.
const DefaultForkserverPreload = 2

// retryAfter is how long no child is started ahead of time after one died
// before it could wait for work (its program may never reach mp.Main),
// unless SetForkserverPreload asks again. A variable for tests.
var retryAfter = time.Second

// server holds the children waiting for work. Starting them is
// serialised: the next starts once the last waits, is taken, or has died,
// so that at most one child's start-up runs in the background at a time.
var server = &forkserver{preload: DefaultForkserverPreload, changed: make(chan struct{})}

type forkserver struct {
	mu       sync.Mutex
	preload  int        // how many should wait
	used     bool       // children are wanted: a Forkserver Start or SetForkserverPreload asked, and no stop since
	idle     []*waiting // started ahead of time, not given work, oldest first
	filling  bool       // the goroutine that starts them runs
	gen      int        // bumped by stop: what an older generation started is let go
	watchers int        // children started ahead of time whose end no Process will record
	failed   error      // why the last child started ahead of time ended before it could wait
	failedAt time.Time
	started  int           // how many children have been started ahead of time (for tests)
	changed  chan struct{} // closed, and replaced, at every change of the above or of a child's readiness
}

// waiting is a child started ahead of time.
type waiting struct {
	child *launch.Child
	pid   int // the child's, which Release forgets
	nonce string
	key   *startKey
	gen   int

	// Under server.mu:
	ready     bool // it said it waits
	out       bool // no longer idle: taken, dismissed, or ended
	dismissed bool // ended by the server

	mu    sync.Mutex // under server.mu when both are held
	owner *Process   // the Process it runs for, once handed over
	ended bool       // it ended before it was handed over
}

// procStdout and procStderr are the process's standard output and error
// as it started: the files behind its descriptors 1 and 2, whatever
// os.Stdout and os.Stderr are later set to.
var procStdout, procStderr = os.Stdout, os.Stderr

// startKey is how a child was started ahead of time: as Spawn starts the
// child of a Process whose Env, Dir and Stdin are unset, at that moment,
// but with the process's own standard output and error (procStdout,
// procStderr), not os.Stdout and os.Stderr, which a program may set to a
// file it closes later (Go's Example functions do): a child that waits
// must not hold that file open.
type startKey struct {
	exe            string
	args           []string
	env            []string // childEnv's: no marker, the tree of shared memory's names
	dir            string
	stdout, stderr *os.File
	noPdeathsig    bool
}

// currentKey is how Spawn would start a child now.
func currentKey() (*startKey, error) {
	exe, err := spawn.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("mp: the working directory: %w", err)
	}
	return &startKey{exe: exe, args: os.Args, env: childEnv(os.Environ()), dir: dir,
		stdout: procStdout, stderr: procStderr, noPdeathsig: noPdeathsig}, nil
}

// spec is the launch.Spec of a child started as k: with the null device
// for standard input.
func (k *startKey) spec() *launch.Spec {
	return &launch.Spec{Path: k.exe, Args: k.args, Env: k.env, Stdout: k.stdout, Stderr: k.stderr,
		WaitDelay: outputDelay, NoPdeathsig: k.noPdeathsig}
}

// fits reports whether a child started as k can run the child that Spawn
// would start as s in the working directory cwd, and which standard files
// it must then be given. Only standard files can be given (on Unix);
// anything else that differs makes the Start a cold one. So does a
// GracePeriod: its child is started otherwise (launch.Spec.Graceful: no
// PR_SET_PDEATHSIG on Linux, a Job Object it holds on Windows), and
// waiting children are started as one without a grace period is.
func (k *startKey) fits(s *launch.Spec, cwd string) (launch.Std, bool) {
	if s.Dir != "" || s.Graceful || !k.same(s.Path, s.Args, s.Env, cwd, s.NoPdeathsig) {
		return launch.Std{}, false
	}
	std := launch.Std{Stdin: s.Stdin, Stdout: s.Stdout, Stderr: s.Stderr}
	std.Set = [3]bool{s.Stdin != nil, s.Stdout != io.Writer(k.stdout), s.Stderr != io.Writer(k.stderr)}
	if std.Set != [3]bool{} && !launch.Redirects {
		return launch.Std{}, false
	}
	return std, true
}

// same reports whether a child started as k was started with this
// program, arguments, environment, working directory and death signal.
func (k *startKey) same(exe string, args, env []string, dir string, noPdeathsig bool) bool {
	return exe == k.exe && dir == k.dir && noPdeathsig == k.noPdeathsig &&
		slices.Equal(args, k.args) && slices.Equal(env, k.env)
}

// SetForkserverPreload sets how many children wait for work under
// Forkserver, started ahead of time (DefaultForkserverPreload unless set),
// starts them if fewer wait, and returns once n wait: once each has run
// the program up to mp.Main and waits there. It returns an error if one
// exits before it gets there (its program does not call mp.Main, say): an
// error wrapping the child's *ExitError. n = 0 ends the waiting children,
// and returns once they have been reaped; a Forkserver Start is then as
// Spawn's.
//
// Without it, no child waits until the first Forkserver Start, which is
// cold and has the default number started. Every later Forkserver Start
// takes one that waits, and has another started in its place. A program
// that starts many processes at once sets n to their number, as Python's
// set_forkserver_preload names what its server loads ahead of time.
// Children started ahead of time cost memory while they wait (see the
// package documentation, "Forkserver").
func SetForkserverPreload(n int) error {
	if n < 0 {
		return fmt.Errorf("%w: SetForkserverPreload(%d): the count cannot be negative", ErrArgs, n)
	}
	return server.setPreload(n)
}

func (s *forkserver) setPreload(n int) error {
	if n == 0 {
		s.mu.Lock()
		s.preload = 0
		s.mu.Unlock()
		s.stop()
		return nil
	}
	cwd, _ := os.Getwd()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.preload, s.used, s.failed = n, true, nil
	s.dropStaleLocked(cwd)
	for len(s.idle) > n {
		s.dismissLocked(s.idle[len(s.idle)-1]) // the newest
	}
	gen := s.gen
	for {
		s.fillLocked()
		if s.failed != nil {
			return s.failed
		}
		if s.gen != gen || s.preload != n {
			return nil // stopped, or set again, meanwhile
		}
		if len(s.idle) >= n && !slices.ContainsFunc(s.idle, func(w *waiting) bool { return !w.ready }) {
			return nil
		}
		s.waitLocked()
	}
}

// waitLocked waits for the next change; s.mu is held, and released
// meanwhile.
func (s *forkserver) waitLocked() {
	ch := s.changed
	s.mu.Unlock()
	<-ch
	s.mu.Lock()
}

func (s *forkserver) broadcastLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// take returns a waiting child that can run the child Spawn would start as
// spec, preferring one that is ready, and the standard files to give it,
// or nil. It has one started in its place.
func (s *forkserver) take(spec *launch.Spec) (*waiting, launch.Std) {
	cwd, _ := os.Getwd() // if it fails, nothing fits
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used = true
	defer s.fillLocked()
	best := -1
	var std launch.Std
	for i, w := range s.idle {
		st, ok := w.key.fits(spec, cwd)
		if ok && (best < 0 || w.ready) {
			best, std = i, st
			if w.ready {
				break
			}
		}
	}
	if best < 0 {
		s.dropStaleLocked(cwd)
		return nil, launch.Std{}
	}
	w := s.idle[best]
	s.idle = slices.Delete(s.idle, best, best+1)
	w.out = true
	s.broadcastLocked()
	return w, std
}

// dropStaleLocked ends the waiting children that could not run the child
// of a Process with nothing set: the program, its arguments, environment or
// working directory have changed since they were started.
func (s *forkserver) dropStaleLocked(cwd string) {
	if len(s.idle) == 0 {
		return
	}
	k, err := currentKey()
	if err != nil {
		return
	}
	for _, w := range slices.Clone(s.idle) {
		if !w.key.same(k.exe, k.args, k.env, cwd, k.noPdeathsig) {
			s.dismissLocked(w)
		}
	}
}

// giveBack returns a child that take gave but that was not handed over.
func (s *forkserver) giveBack(w *waiting) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w.gen != s.gen {
		w.out = false
		s.dismissLocked(w)
		return
	}
	w.out = false
	s.idle = slices.Insert(s.idle, 0, w)
	s.broadcastLocked()
}

// adopt hands w's child over to p, which becomes started, unless the child
// has ended; done is p's Done.
func (s *forkserver) adopt(w *waiting, p *Process) (done <-chan struct{}, ok bool) {
	w.mu.Lock()
	if w.ended {
		w.mu.Unlock()
		return nil, false
	}
	p.mu.Lock()
	p.child, p.pid = w.child, w.pid
	p.state = stateStarted
	done = p.doneChan()
	p.mu.Unlock()
	w.owner = p
	w.mu.Unlock()

	s.mu.Lock()
	s.watchers--
	s.broadcastLocked()
	s.mu.Unlock()
	return done, true
}

// dismissLocked ends an idle child; its watcher reaps it.
func (s *forkserver) dismissLocked(w *waiting) {
	if i := slices.Index(s.idle, w); i >= 0 {
		s.idle = slices.Delete(s.idle, i, i+1)
	}
	w.out, w.dismissed = true, true
	_ = kill(w.child)
	s.broadcastLocked()
}

// stop ends the waiting children and returns once they have been reaped
// and nothing is being started. A later Forkserver Start starts them
// again.
func (s *forkserver) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	s.used = false
	for len(s.idle) > 0 {
		s.dismissLocked(s.idle[0])
	}
	s.broadcastLocked()
	for s.filling || s.watchers > 0 {
		s.waitLocked()
	}
}

// fillLocked has children started until preload wait, unless that is
// under way, not wanted, or the last one failed less than retryAfter ago.
func (s *forkserver) fillLocked() {
	if s.filling || !s.used || len(s.idle) >= s.preload {
		return
	}
	if s.failed != nil {
		if time.Since(s.failedAt) < retryAfter {
			return
		}
		s.failed = nil
	}
	s.filling = true
	go s.fill(s.gen)
}

// fill starts children, one at a time, until preload wait.
func (s *forkserver) fill(gen int) {
	s.mu.Lock()
	defer func() {
		s.filling = false
		s.broadcastLocked()
		s.mu.Unlock()
	}()
	for s.gen == gen && s.used && s.failed == nil && len(s.idle) < s.preload {
		s.mu.Unlock()
		w, err := s.start(gen)
		s.mu.Lock()
		if err != nil {
			s.failed, s.failedAt = fmt.Errorf("mp: starting a child for Forkserver: %w", err), time.Now()
			return
		}
		s.idle = append(s.idle, w)
		s.broadcastLocked()
		if s.gen != gen {
			s.dismissLocked(w)
			return
		}
		for s.gen == gen && !w.ready && !w.out {
			s.waitLocked()
		}
	}
}

// start starts a child ahead of time, as Spawn would start the child of a
// Process with nothing set, and tells it to wait.
func (s *forkserver) start(gen int) (*waiting, error) {
	k, err := currentKey()
	if err != nil {
		return nil, err
	}
	w := &waiting{nonce: newNonce(), key: k, gen: gen}
	spec := k.spec()
	spec.Marker = func(bootH, reportH uintptr) string {
		return bootstrap.EnvVar + "=" + bootstrap.Marker{Boot: bootH, Report: reportH, Nonce: w.nonce}.String()
	}
	if w.child, err = launch.Start(spec); err != nil {
		return nil, err
	}
	w.pid = w.child.Pid()
	s.mu.Lock()
	s.watchers++
	s.started++
	s.mu.Unlock()
	go s.watch(w)
	// A few bytes, which the socket or pipe holds until the child reads
	// them: this never waits. If it fails, the child has died, and its
	// watcher says so.
	_ = bootstrap.WriteWait(w.child.Boot, w.nonce)
	return w, nil
}

// watch waits for a child started ahead of time to end, noting when it
// says it waits, and records its end: its Process's, once handed over.
func (s *forkserver) watch(w *waiting) {
	br := bufio.NewReader(w.child.Report)
	e := watch(w.child, func() childReport {
		if bootstrap.ReadWaiting(br) {
			s.mu.Lock()
			w.ready = true
			s.broadcastLocked()
			s.mu.Unlock()
		}
		return readReport(br)
	})
	w.mu.Lock()
	owner := w.owner
	w.ended = owner == nil
	w.mu.Unlock()
	if owner != nil {
		owner.exited(e)
		return
	}
	s.lost(w, e)
}

// lost records the end of a child that was never handed over. One that
// ended while it waited (killed, say) is replaced; one that ended before
// it could wait makes the server stop starting them for a while.
func (s *forkserver) lost(w *waiting, e ended) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := slices.Index(s.idle, w); i >= 0 {
		s.idle = slices.Delete(s.idle, i, i+1)
	}
	w.out = true
	s.watchers--
	_ = w.child.Release()
	if !w.dismissed && !w.ready && w.gen == s.gen {
		var err error
		if e.ps == nil {
			err = e.werr
		} else if err = exitError("a child started ahead of time", w.pid, launch.ExitCode(e.ps),
			e.report.started, e.report.rep, e.report.crash); err == nil {
			err = fmt.Errorf("mp: pid %d exited with code 0", w.pid)
		}
		s.failed = fmt.Errorf("mp: a child started for Forkserver ended before it could wait for work: %w", err)
		s.failedAt = time.Now()
	}
	s.broadcastLocked()
	s.fillLocked()
}

// handover gives p's work to w's child. It reports done = false, having
// done nothing, if the child turned out to have ended: Start then takes
// another.
func (p *Process) handover(w *waiting, std launch.Std, boot *bootstrap.Boot, files []*os.File) (done bool, err error) {
	b := *boot
	b.Nonce, b.Stdio = w.nonce, std.Set
	frame, err := p.encodeBoot(&b)
	if err != nil {
		server.giveBack(w)
		return true, err
	}
	exited, ok := server.adopt(w, p)
	if !ok {
		return false, nil
	}
	var give *launch.Std
	if std.Set != [3]bool{} {
		give = &std
	}
	return true, p.send(w.child, exited, frame, files, give)
}
