package mp

import (
	"fmt"
	"os"
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
