package tutorial

import (
	"errors"
	"fmt"
	"io"

	"github.com/go-mp/mp"
)

// IPCConfig sizes the IPC step.
type IPCConfig struct {
	Producers int // producer processes
	Items     int // items each producer puts
	Rounds    int // ping-pong rounds over the pipe
}

// Work is what producers put on the queue: an int and a short string, as
// the tutorial's (i, "job") tuples.
type Work struct {
	N    int
	From string
}

// IPC shows processes that talk: producers put jobs on an mp.Queue, a
// consumer process gets them all, in each producer's order, and sends its
// total back on another queue; then the parent and a child play ping-pong
// over an mp.Pipe, Python's multiprocessing.Pipe.
func IPC(cfg IPCConfig) error {
	jobs, err := mp.NewQueue(0)
	if err != nil {
		return err
	}
	defer jobs.Close()
	results, err := mp.NewQueue(0)
	if err != nil {
		return err
	}
	defer results.Close()

	consumer := mp.NewProcess(consume, jobs, results, cfg.Producers*cfg.Items)
	if err := consumer.Start(); err != nil {
		return err
	}
	var producers []*mp.Process
	for range cfg.Producers {
		p := mp.NewProcess(produce, jobs, cfg.Items)
		if err := p.Start(); err != nil {
			return err
		}
		producers = append(producers, p)
	}
	// Joining producers before their items are got is safe with mp (in
	// Python it can deadlock: bpo-29797).
	for _, p := range producers {
		if err := p.Join(); err != nil {
			return err
		}
	}
	var total int
	if err := results.Get(&total); err != nil {
		return err
	}
	if err := consumer.Join(); err != nil {
		return err
	}
	say("main: the consumer got %d jobs; the sum of their numbers is %d", cfg.Producers*cfg.Items, total)

	parent, child, err := mp.Pipe(true)
	if err != nil {
		return err
	}
	defer parent.Close()
	p := mp.NewProcess(pong, child)
	if err := p.Start(); err != nil {
		return err
	}
	child.Close() // the child holds it now: its end of file will be ours
	for i := 1; i <= cfg.Rounds; i++ {
		if err := parent.Send(fmt.Sprintf("ping %d", i)); err != nil {
			return err
		}
		var reply string
		if err := parent.Recv(&reply); err != nil {
			return err
		}
		say("main: sent \"ping %d\", got %q", i, reply)
	}
	parent.Close() // the child sees end of file and returns
	return p.Join()
}

// produce puts n jobs on the queue.
func produce(jobs *mp.Queue, n int) error {
	name := mp.CurrentProcess().Name
	for i := 1; i <= n; i++ {
		if err := jobs.Put(Work{N: i, From: name}); err != nil {
			return err
		}
	}
	say("%s: put %d jobs", name, n)
	return nil
}

// consume gets n jobs, checks that each producer's come in order, and puts
// the sum of their numbers on results.
func consume(jobs, results *mp.Queue, n int) error {
	last := map[string]int{}
	sum := 0
	for range n {
		var j Work
		if err := jobs.Get(&j); err != nil {
			return err
		}
		if j.N != last[j.From]+1 {
			return fmt.Errorf("job %d of %s came after job %d", j.N, j.From, last[j.From])
		}
		last[j.From] = j.N
		sum += j.N
	}
	say("consumer: got %d jobs from %d producers, each producer's in order", n, len(last))
	return results.Put(sum)
}

// pong answers each "ping N" with "pong N" until the parent closes its end.
func pong(c *mp.Conn) error {
	defer c.Close()
	for {
		var msg string
		err := c.Recv(&msg)
		if errors.Is(err, io.EOF) {
			say("child: the parent closed the pipe")
			return nil
		}
		if err != nil {
			return err
		}
		var n int
		if _, err := fmt.Sscanf(msg, "ping %d", &n); err != nil {
			return err
		}
		if err := c.Send(fmt.Sprintf("pong %d", n)); err != nil {
			return err
		}
	}
}
