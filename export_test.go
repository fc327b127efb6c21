package mp

import (
	"fmt"
	"os"
	"time"
	"unsafe"
)

// ConnFiles returns the pipe ends under c, so that benchmarks can measure
// a raw pipe between the same two processes.
func ConnFiles(c *Conn) (r, w *os.File) { return c.rf, c.wf }

// SetMaxBoot sets the bootstrap's size limit, and returns a function that
// restores it.
func SetMaxBoot(n int) (restore func()) {
	old := maxBoot
	maxBoot = n
	return func() { maxBoot = old }
}

// LockScratch returns four spare words of a Lock's shared memory (its
// header's last 32 bytes), for the benchmarks' shared counter and turn
// until the shared-memory issue's Value exists.
func LockScratch(l *Lock) *[4]uint64 {
	return (*[4]uint64)(unsafe.Pointer(&l.c.obj.seg.Bytes()[32]))
}

// PoolWorkers returns the processes of p's live workers.
func PoolWorkers(p *Pool) []*Process {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	var out []*Process
	for w := range p.c.live {
		out = append(out, w.proc)
	}
	return out
}

// PoolState describes p's queue and slots, for a failing test's log.
func PoolState(p *Pool) string {
	c := p.c
	c.mu.Lock()
	s := fmt.Sprintf("state=%d queued=%d jobs=%d live=%d broken=%v", c.state, c.queued, len(c.jobs), len(c.live), c.broken)
	for _, j := range c.jobs {
		s += fmt.Sprintf("\n job fn=%s n=%d next=%d back=%v stopped=%v", j.fn, j.n, j.next, j.back, j.stopped)
	}
	c.mu.Unlock()
	return s
}

// StopForkserver ends the children waiting for work under Forkserver, and
// returns once they have been reaped.
func StopForkserver() { server.stop() }

// ForkserverIdle returns the PIDs of the children waiting for work under
// Forkserver, oldest first, and how many of them are ready (wait just past
// mp.Main).
func ForkserverIdle() (pids []int, ready int) {
	server.mu.Lock()
	defer server.mu.Unlock()
	for _, w := range server.idle {
		pids = append(pids, w.pid)
		if w.ready {
			ready++
		}
	}
	return pids, ready
}

// WaitForkserver waits until cond holds of ForkserverIdle's answer, or d
// has passed, and reports whether it held.
func WaitForkserver(d time.Duration, cond func(pids []int, ready int) bool) bool {
	deadline := time.After(d)
	for {
		server.mu.Lock()
		ch := server.changed
		server.mu.Unlock()
		if cond(ForkserverIdle()) {
			return true
		}
		select {
		case <-ch:
		case <-deadline:
			return cond(ForkserverIdle())
		}
	}
}

// ForkserverStarted returns how many children have been started ahead of
// time for Forkserver.
func ForkserverStarted() int {
	server.mu.Lock()
	defer server.mu.Unlock()
	return server.started
}

// ForkserverKill kills the child with the given PID if it waits for work
// under Forkserver, as a crash would (through its handle, never the bare
// PID), and reports whether it did.
func ForkserverKill(pid int) bool {
	server.mu.Lock()
	defer server.mu.Unlock()
	for _, w := range server.idle {
		if w.pid == pid {
			return kill(w.child) == nil
		}
	}
	return false
}

// SetForkserverRetry sets how long no child is started ahead of time after
// one died before it could wait, and returns a function that restores it.
func SetForkserverRetry(d time.Duration) (restore func()) {
	server.mu.Lock()
	defer server.mu.Unlock()
	old := retryAfter
	retryAfter = d
	return func() {
		server.mu.Lock()
		defer server.mu.Unlock()
		retryAfter = old
	}
}

// ShmTreeRoot returns the root of this process's tree of processes, to
// which the names of the shared memory it creates belong.
func ShmTreeRoot() uint64 { return processTree().Root() }
