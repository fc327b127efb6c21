package mp

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mp/mp/internal/bootstrap"
)

// lifeline is a child's watch on its parent, and on requests to stop: the
// context its target gets, and what it does when either comes.
type lifeline struct {
	grace      time.Duration
	parent     *Process
	cancel     context.CancelCauseFunc
	terminated atomic.Bool // asked to stop: the child ends as terminated
	termOnce   sync.Once
	deathOnce  sync.Once
}

// watch starts the child's watch on its lifeline, and on SIGTERM if it has
// a grace period (Unix), and returns the context for the target.
//
// The parent writes nothing on the lifeline after the bootstrap, but for
// a request to stop (bootstrap.Terminate, Windows' graceful Terminate):
// end of file means the parent has died. Without a grace period the child
// then exits at once. With one, ParentProcess().Done() closes, the
// target's context is cancelled, and the child exits, with code 1, once
// the grace period has passed if it has not by then: it never outlives
// its parent by more.
func (c *child) watch(parent *Process) context.Context {
	ctx, cancel := context.WithCancelCause(context.Background())
	l := &lifeline{grace: time.Duration(c.b.Grace), parent: parent, cancel: cancel}
	c.life = l
	if l.grace > 0 {
		watchTerminate(l)
	}
	go func() {
		var b [1]byte
		for {
			n, err := c.boot.Read(b[:])
			if n == 1 && b[0] == bootstrap.Terminate && l.grace > 0 {
				l.terminate()
			}
			if err != nil {
				break
			}
		}
		l.parentDied()
	}()
	return ctx
}

// parentDied closes ParentProcess().Done() and ends the child, at once or
// after its grace period.
func (l *lifeline) parentDied() {
	l.deathOnce.Do(func() {
		close(l.parent.done)
		if l.grace <= 0 {
			os.Exit(1)
		}
		logInfo("the parent died: the target has its grace period", "grace", l.grace)
		l.cancel(ErrParentDied)
		time.AfterFunc(l.grace, func() { os.Exit(1) })
	})
}

// terminate cancels the target's context, and ends the child as
// terminated once the grace period has passed if it has not by then.
func (l *lifeline) terminate() {
	l.termOnce.Do(func() {
		l.terminated.Store(true)
		logInfo("asked to terminate: the target has its grace period", "grace", l.grace)
		l.cancel(ErrTerminated)
		time.AfterFunc(l.grace, dieTerminated)
	})
}
