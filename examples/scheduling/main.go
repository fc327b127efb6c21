// Command scheduling is the tutorial's process-scheduling theory as a
// simulation. Over a job list (built in, or from -jobs) it runs
// first-come first-served, shortest job first, round robin and a
// multi-level feedback queue, and prints for each a Gantt chart and every
// job's finish, turnaround, waiting and response times; then the state
// changes (new, ready, running, blocked, terminated) of the round-robin
// run.
//
// Then a short real demonstration with mp of concurrency versus
// parallelism: CPU-bound children free to use every CPU, then pinned to one
// CPU (on Linux; elsewhere it says pinning is unavailable).
//
//	go run ./examples/scheduling
//	go run ./examples/scheduling -jobs A:0:5:2+4,B:1:3,C:2:8,D:3:2 -quantum 3 -levels 1,2,4
//	go run ./examples/scheduling -work 0   # the simulation only
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-mp/mp"

	"github.com/go-mp/mp/examples/internal/tutorial"
)

var (
	jobs    = flag.String("jobs", "", "jobs as `name:arrival:burst[:ioAt+ioTime],...` (default: the built-in list, A:0:5:2+4,B:1:3,C:2:8,D:3:2)")
	quantum = flag.Int("quantum", 2, "round robin's time slice")
	levels  = flag.String("levels", "2,4", "the MLFQ's time slices, highest queue first; a last FCFS queue follows")
	work    = flag.Duration("work", 150*time.Millisecond, "each CPU-bound child's work in the real demonstration; 0 leaves it out")
)

// main runs the simulation and the demonstration; mp.Main first, as always.
func main() {
	mp.Main() // in a child process: runs the target and exits
	defer mp.Shutdown()
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "scheduling:", err)
		mp.Shutdown()
		os.Exit(1)
	}
}

// run turns the flags into a configuration and runs the step.
func run() error {
	cfg := tutorial.SchedulingConfig{Quantum: *quantum, Work: *work}
	if *jobs != "" {
		var err error
		if cfg.Jobs, err = tutorial.ParseJobs(*jobs); err != nil {
			return err
		}
	}
	for _, f := range strings.Split(*levels, ",") {
		q, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("-levels: %w", err)
		}
		cfg.Levels = append(cfg.Levels, q)
	}
	return tutorial.Scheduling(cfg)
}
