package mp_test

import (
	"fmt"
	"log"

	"github.com/go-mp/mp"
)

func init() {
	ipcTargets = append(ipcTargets, worker)
	// Types sent inside interface values are registered in every process:
	// from init, which runs in children too.
	mp.RegisterType(Job{}, Stop{})
}

// Job is a unit of work; Stop tells a worker to stop.
type Job struct {
	ID   int
	Name string
}

type Stop struct{ Reason string }

// worker takes jobs until it gets nil, Python's None pill, and reports
// each.
func worker(jobs, done *mp.Queue) error {
	for {
		var job *Job
		if err := jobs.Get(&job); err != nil {
			return err
		}
		if job == nil {
			return done.Put(Stop{Reason: "no more jobs"})
		}
		if err := done.Put(fmt.Sprintf("did %d: %s", job.ID, job.Name)); err != nil {
			return err
		}
	}
}

// Example_nonePill ports Python's poison pill: a nil put on a queue
// arrives as nil.
func Example_nonePill() {
	jobs, err := mp.NewQueue(0)
	if err != nil {
		log.Fatal(err)
	}
	defer jobs.Close()
	done, err := mp.NewQueue(0)
	if err != nil {
		log.Fatal(err)
	}
	defer done.Close()
	p := mp.NewProcess(worker, jobs, done)
	if err := p.Start(); err != nil {
		log.Fatal(err)
	}
	for _, j := range []*Job{{1, "wash"}, {2, "dry"}, nil} {
		if err := jobs.Put(j); err != nil {
			log.Fatal(err)
		}
	}
	for {
		// Messages of different types come back: receive into an
		// interface, and switch on the type.
		var msg any
		if err := done.Get(&msg); err != nil {
			log.Fatal(err)
		}
		if stop, ok := msg.(Stop); ok {
			fmt.Println("stopped:", stop.Reason)
			break
		}
		fmt.Println(msg)
	}
	if err := p.Join(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// did 1: wash
	// did 2: dry
	// stopped: no more jobs
}

func ExampleRegisterType() {
	mp.RegisterType(Job{}) // registered types keep their type inside interfaces
	a, b, err := mp.Pipe(true)
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	if err := a.Send([]any{Job{ID: 7, Name: "paint"}, 42, "text", nil}); err != nil {
		log.Fatal(err)
	}
	var got []any
	if err := b.Recv(&got); err != nil {
		log.Fatal(err)
	}
	for _, v := range got {
		fmt.Printf("%T %v\n", v, v)
	}
	// Output:
	// mp_test.Job {7 paint}
	// int64 42
	// string text
	// <nil> <nil>
}
