package mp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// atExit holds the functions registered with AtExit, in order.
var atExit struct {
	sync.Mutex
	funcs []func()
}

// AtExit registers f to run when the calling process shuts down: in a
// child, once its target has returned (or failed), before it exits; in the
// main process, in Shutdown (or ShutdownContext), once the children have
// been joined. It is Python's atexit.register and util.Finalize in one, for
// the processes of a tree: the functions run last registered first, each
// once, in the goroutine that shuts down. A child killed by a signal, or
// that calls os.Exit, runs none, as in Python; nor does a main process that
// never calls Shutdown.
func AtExit(f func()) {
	if f == nil {
		panic("mp: AtExit(nil)")
	}
	atExit.Lock()
	atExit.funcs = append(atExit.funcs, f)
	atExit.Unlock()
}

// runAtExit runs the registered functions, last first, taking each off the
// list before it runs, so that each runs once, and one registered while
// they run runs too.
func runAtExit() {
	for {
		atExit.Lock()
		n := len(atExit.funcs)
		if n == 0 {
			atExit.Unlock()
			return
		}
		f := atExit.funcs[n-1]
		atExit.funcs = atExit.funcs[:n-1]
		atExit.Unlock()
		f()
	}
}

// ShutdownContext is Shutdown until ctx is done: it terminates the daemon
// children, joins every child, and runs the AtExit functions. If ctx ends
// first, it returns an error that names the children it still waits for
// and wraps ctx.Err() and ErrStillRunning, and runs no AtExit function (a
// later Shutdown runs them).
func ShutdownContext(ctx context.Context) error {
	logInfo("process shutting down")
	server.stop()
	all := children()
	for _, p := range all {
		if p.Daemon {
			logInfo("calling Terminate for daemon", "name", p.Name)
			_ = p.Terminate()
		}
	}
	var waiting []string
	for _, p := range all {
		logInfo("calling Join for process", "name", p.Name)
		if err := p.JoinContext(ctx); errors.Is(err, ErrStillRunning) {
			waiting = append(waiting, fmt.Sprintf("%s (pid %d)", p.Name, p.PID()))
		}
	}
	if len(waiting) > 0 {
		return fmt.Errorf("mp: shutdown: still waiting for %s: %w (%w)", strings.Join(waiting, ", "), ctx.Err(), ErrStillRunning)
	}
	logDebug("running the AtExit functions")
	runAtExit()
	return nil
}
