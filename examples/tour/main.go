// Command tour walks through the Python multiprocessing tutorial with mp,
// in the tutorial's order: UDP and remote time synchronisation, the history
// of processes and scheduling, creating processes, join, isolation, the
// main guard, the process object's methods, queues and pipes, locks,
// events and barriers, shared memory, a pool of workers, and managers.
// Each step says in a line or two what it shows, then runs the same code
// as the example of that name under examples/, with shorter sleeps. It
// takes a few seconds.
//
//	go run ./examples/tour
package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-mp/mp"

	"github.com/go-mp/mp/examples/internal/tutorial"
)

// step is one stop of the tour.
type step struct {
	title     string
	narration string
	run       func() error
}

// steps is the tour, in the tutorial's order.
var steps = []step{
	{
		"UDP: a server and a client",
		"A server process answers every datagram with \"hi\"; the client sends \"hello\".\n" +
			"UDP loses datagrams: this server drops the first one, so the client waits, then tries again.",
		func() error {
			return tutorial.UDP(tutorial.UDPConfig{Addr: "127.0.0.1:0", Drop: 1, Timeout: 500 * time.Millisecond, Tries: 5})
		},
	},
	{
		"UDP: remote time synchronisation",
		"A time server answers with its clock; from four timestamps per exchange the client computes,\n" +
			"as NTP does, the round-trip delay and the clock offset. This server's clock runs 1.5s fast.",
		func() error {
			_, err := tutorial.TimeSync(tutorial.TimeConfig{Addr: "127.0.0.1:0", Samples: 3, Skew: 1500 * time.Millisecond})
			return err
		},
	},
	{
		"History and scheduling",
		"Batch systems ran one job at a time; multiprogramming and time-sharing let the OS switch between\n" +
			"processes, each new, ready, running, blocked or terminated. Which ready process runs next is the\n" +
			"scheduler's choice: four classic policies, simulated over one job list, then real processes\n" +
			"taking turns on one CPU (concurrency) or running on all of them at once (parallelism).",
		func() error { return tutorial.Scheduling(tutorial.SchedulingConfig{Work: 100 * time.Millisecond}) },
	},
	{
		"Creating processes",
		"mp.NewProcess(target, args...) and Start, like Process(target=f, args=(...)).start(); Join waits.\n" +
			"A Runner, a struct with a Run method, plays Python's Process subclass.",
		func() error { return tutorial.Create(200 * time.Millisecond) },
	},
	{
		"join",
		"Three children sleep 1, 2 and 3 units (here 200ms): started together they take the longest sleep,\n" +
			"started and joined one by one the sum.",
		func() error {
			_, _, err := tutorial.Join(200 * time.Millisecond)
			return err
		},
	},
	{
		"Isolation",
		"Processes share no memory: a child's change to a global stays in the child.\n" +
			"The Fork start method carries only the globals registered with isolation.Inherit.",
		tutorial.Isolation,
	},
	{
		"The main guard",
		"mp.Main is Go's if __name__ == '__main__': code before it runs again in every child,\n" +
			"and a child that reaches Start before it is refused with mp.ErrMainGuard.",
		tutorial.MainGuard,
	},
	{
		"The process object",
		"Names, PIDs, the current and parent process, IsAlive, the scheduler's state, Terminate and the exit code.",
		tutorial.Methods,
	},
	{
		"IPC: queues and pipes",
		"Processes share no memory, so they talk: producers put jobs on an mp.Queue and a consumer process\n" +
			"gets them, each producer's in order; then the parent and a child play ping-pong over an mp.Pipe.",
		func() error { return tutorial.IPC(tutorial.IPCConfig{Producers: 2, Items: 100, Rounds: 3}) },
	},
	{
		"Synchronisation: locks, events and barriers",
		"Processes that share a resource take turns: four workers add to a counter kept in a file, each\n" +
			"read-add-write under an mp.Lock; workers run until an mp.Event stops them; workers go through\n" +
			"rounds in lockstep at an mp.Barrier. A holder killed mid-way would not block the others.",
		func() error { return tutorial.Sync(tutorial.SyncConfig{Workers: 4, Increments: 100, Rounds: 3}) },
	},
	{
		"Shared memory: Value, Array and SharedMemory",
		"Processes can share memory after all, with no copy: a child sets an mp.Value to pi and negates an\n" +
			"mp.Array (Python's documentation example); four workers sum a shared array, each its own part;\n" +
			"a child opens an mp.SharedMemory block by its name, as any program could.",
		func() error { return tutorial.Shared(tutorial.SharedConfig{Workers: 4, N: 1_000_000}) },
	},
	{
		"A pool of workers",
		"mp.NewPool starts worker processes that run a registered function on many items: Map, ImapUnordered,\n" +
			"ApplyAsync with a timeout, a worker killed mid-task (its task fails, a new worker takes its place),\n" +
			"a word count in map-reduce form, and a progress bar over Imap.",
		func() error {
			return tutorial.Pool(tutorial.PoolConfig{Workers: 2, Slow: time.Hour, Timeout: 200 * time.Millisecond,
				Items: 20, Progress: os.Stdout})
		},
	},
	{
		"Managers: shared objects",
		"A manager is a process that holds objects (a dict, a list, a queue, your own types) for others,\n" +
			"which use them through proxies, even from another host. d[k] += 1 through a proxy loses updates;\n" +
			"Dict.Add is atomic, in the manager.",
		func() error { return tutorial.Manager(tutorial.ManagerConfig{Workers: 4, Increments: 100}) },
	},
}

// main runs the tour; mp.Main first, as always.
func main() {
	mp.Main() // in a child process: runs the target and exits
	if err := tour(); err != nil {
		fmt.Fprintln(os.Stderr, "tour:", err)
		os.Exit(1)
	}
}

// tour runs the steps in order, each after its headline and narration. A
// step that fails says so, and the tour goes on: one step's trouble (no
// UDP under Wine, say) should not hide the others.
func tour() error {
	defer mp.Shutdown()
	began := time.Now()
	var failed []string
	for i, s := range steps {
		fmt.Printf("\n== Step %d of %d: %s ==\n%s\n\n", i+1, len(steps), s.title, s.narration)
		if err := s.run(); err != nil {
			fmt.Printf("Step %d failed: %v\n", i+1, err)
			failed = append(failed, fmt.Sprintf("%d (%s)", i+1, s.title))
		}
	}
	fmt.Printf("\nTour complete: %d steps in %v.\n", len(steps), time.Since(began).Round(time.Millisecond))
	if len(failed) > 0 {
		return fmt.Errorf("steps %s failed", strings.Join(failed, ", "))
	}
	return nil
}
