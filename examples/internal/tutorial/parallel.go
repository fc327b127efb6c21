package tutorial

import (
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/go-mp/mp"
)

// SchedulingConfig configures the scheduling step.
type SchedulingConfig struct {
	Jobs    []Job // nil: BuiltinJobs
	Quantum int   // round robin's time slice (default 2)
	Levels  []int // MLFQ's time slices (default 2, 4), then FCFS
	// Work is how much computation each child of the real demonstration
	// does; 0 leaves the demonstration out.
	Work time.Duration
}

// Scheduling simulates FCFS, SJF, round robin and MLFQ over the job list,
// printing a Gantt chart and each job's times for each, then the state
// changes of the round-robin run. Then, if cfg.Work is set, it shows
// concurrency and parallelism with real processes; see Parallelism.
func Scheduling(cfg SchedulingConfig) error {
	if cfg.Jobs == nil {
		cfg.Jobs = BuiltinJobs()
	}
	if cfg.Quantum == 0 {
		cfg.Quantum = 2
	}
	if cfg.Levels == nil {
		cfg.Levels = []int{2, 4}
	}
	var rr *Schedule
	for _, s := range []Scheduler{FCFS(), SJF(), RoundRobin(cfg.Quantum), MLFQ(cfg.Levels...)} {
		sch, err := Simulate(cfg.Jobs, s)
		if err != nil {
			return err
		}
		fmt.Printf("-- %s --\n", sch.Scheduler)
		if err := sch.WriteGantt(os.Stdout); err != nil {
			return err
		}
		if err := sch.WriteTable(os.Stdout); err != nil {
			return err
		}
		if len(s.quanta) == 1 && !s.feedback {
			rr = sch
		}
	}
	fmt.Printf("-- state changes of the round-robin run: new -> ready -> running -> (blocked | ready) ... -> terminated --\n")
	if err := rr.WriteEvents(os.Stdout); err != nil {
		return err
	}
	if cfg.Work <= 0 {
		return nil
	}
	return Parallelism(cfg.Work)
}

// Parallelism shows concurrency and parallelism with real processes: as
// many CPU-bound children as there are CPUs, each doing about work of
// computation, first free to run on every CPU (in parallel), then all
// pinned to one CPU, where they take turns (concurrently). It prints the
// wall time of each. Pinning is implemented for Linux; elsewhere it says
// that pinning is unavailable.
func Parallelism(work time.Duration) error {
	n := mp.CPUCount()
	iters := calibrate(work)
	fmt.Printf("-- concurrency versus parallelism, with real processes --\n")
	say("%d CPU-bound children (mp.CPUCount() = %d), each computing for about %v", n, n, work)
	spread, err := burnAll(n, iters, -1)
	if err != nil {
		return err
	}
	say("free to use every CPU (parallel):      %v", spread.Round(time.Millisecond))
	cpu, err := firstCPU()
	if err != nil {
		say("pinned to one CPU: unavailable here: %v", err)
		return nil
	}
	pinned, err := burnAll(n, iters, cpu)
	if err != nil {
		return err
	}
	say("pinned to CPU %d (concurrent, in turns): %v", cpu, pinned.Round(time.Millisecond))
	if n == 1 {
		say("with one CPU there is no parallelism: both runs take turns")
		return nil
	}
	say("sharing one CPU took %.1fx as long, %dx at best: on one CPU the children take turns (concurrency), on %d they run at once (parallelism); other programs busy on this machine blur the difference",
		pinned.Seconds()/spread.Seconds(), n, n)
	return nil
}

// burnAll runs n children that compute iters iterations each, pinned to
// cpu unless it is negative, and returns the time from the first Start to
// the last Join.
func burnAll(n int, iters int64, cpu int) (time.Duration, error) {
	began := time.Now()
	ps := make([]*mp.Process, 0, n)
	defer func() {
		for _, p := range ps {
			_ = stopChild(p, (*mp.Process).Kill)
		}
	}()
	for range n {
		p := mp.NewProcess(burn, iters, cpu)
		if err := p.Start(); err != nil {
			return 0, err
		}
		ps = append(ps, p)
	}
	for _, p := range ps {
		if err := p.Join(); err != nil {
			return 0, err
		}
	}
	return time.Since(began), nil
}

// burn is a CPU-bound child: it pins itself to cpu, unless it is negative,
// and computes iters iterations.
func burn(iters int64, cpu int) error {
	if cpu >= 0 {
		if err := pinProcess(cpu); err != nil {
			return err
		}
	}
	runtime.KeepAlive(spin(iters)) // keeps the compiler from dropping the work
	return nil
}

// spin computes for n iterations of a linear congruential generator.
func spin(n int64) uint64 {
	x := uint64(n)
	for range n {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

// calibrate returns how many iterations of spin take about d here.
func calibrate(d time.Duration) int64 {
	const chunk = 1 << 16
	var n int64
	for began := time.Now(); time.Since(began) < d; n += chunk {
		runtime.KeepAlive(spin(chunk))
	}
	return n
}
