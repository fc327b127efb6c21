package mp

import "os"

// ConnFiles returns the pipe ends under c, so that benchmarks can measure
// a raw pipe between the same two processes.
func ConnFiles(c *Conn) (r, w *os.File) { return c.rf, c.wf }

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
