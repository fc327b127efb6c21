package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp/examples/internal/exampletest"
	"github.com/go-mp/mp/examples/internal/tutorial"
)

func TestMain(m *testing.M) { exampletest.Main(m, main) }

// slice is a Gantt chart stretch, written "A 0-2" ("- 3-5" for idle).
func gantt(s *tutorial.Schedule) string {
	var parts []string
	for _, sl := range s.Gantt {
		job := sl.Job
		if job == "" {
			job = "-"
		}
		parts = append(parts, fmt.Sprintf("%s %d-%d", job, sl.Start, sl.End))
	}
	return strings.Join(parts, ", ")
}

// times is each job's finish, turnaround and waiting times, by job.
func times(s *tutorial.Schedule) map[string][3]int {
	out := map[string][3]int{}
	for _, r := range s.Jobs {
		out[r.Name] = [3]int{r.Finish, r.Turnaround, r.Waiting}
	}
	return out
}

// TestBuiltinJobs checks the simulation against schedules worked out by
// hand for the built-in jobs: A arrives at 0 and needs 5 units of CPU with
// a 4-unit I/O wait after 2; B, C and D arrive at 1, 2, 3 and need 3, 8 and
// 2. Conventions: at each time, arrivals join the queue first, then jobs
// back from I/O, then the job whose time slice ended; a job that blocks
// keeps its MLFQ queue.
func TestBuiltinJobs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s                        tutorial.Scheduler
		gantt                    string
		times                    map[string][3]int // finish, turnaround, waiting
		avgWaiting, avgTurnround float64
	}{
		{
			// A runs until it blocks at 2; B, C, D in arrival order; A,
			// back from I/O at 6, queues behind D.
			s:     tutorial.FCFS(),
			gantt: "A 0-2, B 2-5, C 5-13, D 13-15, A 15-18",
			times: map[string][3]int{"A": {18, 18, 9}, "B": {5, 4, 1}, "C": {13, 11, 3}, "D": {15, 12, 10}},
			// waiting 9+1+3+10 = 23, turnaround 18+4+11+12 = 45
			avgWaiting: 5.75, avgTurnround: 11.25,
		},
		{
			// At 2: B (3) before C (8); at 5: D (2); at 7: A's second
			// burst (3) before C (8).
			s:     tutorial.SJF(),
			gantt: "A 0-2, B 2-5, D 5-7, A 7-10, C 10-18",
			times: map[string][3]int{"A": {10, 10, 1}, "B": {5, 4, 1}, "C": {18, 16, 8}, "D": {7, 4, 2}},
			// waiting 1+1+8+2 = 12, turnaround 10+4+16+4 = 34
			avgWaiting: 3, avgTurnround: 8.5,
		},
		{
			// Queue at 2 [B C], at 4 [C D B], at 6 [D B A C] (A back from
			// I/O before C's slice ends), at 9 [A C], at 11 [C A], at 13
			// [A C].
			s:     tutorial.RoundRobin(2),
			gantt: "A 0-2, B 2-4, C 4-6, D 6-8, B 8-9, A 9-11, C 11-13, A 13-14, C 14-18",
			times: map[string][3]int{"A": {14, 14, 5}, "B": {9, 8, 5}, "C": {18, 16, 8}, "D": {8, 5, 3}},
			// waiting 5+5+8+3 = 21, turnaround 14+8+16+5 = 43
			avgWaiting: 5.25, avgTurnround: 10.75,
		},
		{
			// Queue 0 (slice 2): A, B, C, D; B and C use up their slices
			// and drop to queue 1; A blocks at 2 and stays, runs 8-10 and
			// drops; queue 1 (slice 4): B 10-11, C 11-15 (drops to FCFS),
			// A 15-16; then C.
			s:     tutorial.MLFQ(2, 4),
			gantt: "A 0-2, B 2-4, C 4-6, D 6-8, A 8-10, B 10-11, C 11-15, A 15-16, C 16-18",
			times: map[string][3]int{"A": {16, 16, 7}, "B": {11, 10, 7}, "C": {18, 16, 8}, "D": {8, 5, 3}},
			// waiting 7+7+8+3 = 25, turnaround 16+10+16+5 = 47
			avgWaiting: 6.25, avgTurnround: 11.75,
		},
	}
	for _, tt := range tests {
		t.Run(tt.s.Name, func(t *testing.T) {
			s, err := tutorial.Simulate(tutorial.BuiltinJobs(), tt.s)
			require.NoError(t, err)
			assert.Equal(t, tt.gantt, gantt(s))
			assert.Equal(t, tt.times, times(s))
			assert.InDelta(t, tt.avgWaiting, s.AvgWaiting, 1e-9)
			assert.InDelta(t, tt.avgTurnround, s.AvgTurnaround, 1e-9)
			for _, r := range s.Jobs {
				assert.Equal(t, r.Turnaround-r.Burst-r.IOTime, r.Waiting, r.Name)
			}
		})
	}
}

// TestMLFQPreemption: a job arriving in the top queue preempts a job of a
// lower queue, which keeps its queue. X (6 units) uses up its first slice
// at 2 and drops to queue 1; Y arrives at 3 and preempts it.
func TestMLFQPreemption(t *testing.T) {
	t.Parallel()
	jobs := []tutorial.Job{{Name: "X", Arrival: 0, Burst: 6}, {Name: "Y", Arrival: 3, Burst: 1}}
	s, err := tutorial.Simulate(jobs, tutorial.MLFQ(2, 4))
	require.NoError(t, err)
	assert.Equal(t, "X 0-3, Y 3-4, X 4-7", gantt(s))
	assert.Equal(t, map[string][3]int{"X": {7, 7, 1}, "Y": {4, 1, 0}}, times(s))
	assert.Contains(t, s.Events, tutorial.Event{Time: 3, Job: "X", From: tutorial.StateRunning, To: tutorial.StateReady,
		Note: "preempted by a job in a higher queue"})
}

// TestIdle: the CPU idles until the first arrival, and while every job
// waits for I/O.
func TestIdle(t *testing.T) {
	t.Parallel()
	jobs := []tutorial.Job{{Name: "P", Arrival: 2, Burst: 3, IOAt: 1, IOTime: 2}}
	s, err := tutorial.Simulate(jobs, tutorial.FCFS())
	require.NoError(t, err)
	assert.Equal(t, "- 0-2, P 2-3, - 3-5, P 5-7", gantt(s))
	assert.Equal(t, map[string][3]int{"P": {7, 5, 0}}, times(s))
	var b bytes.Buffer
	require.NoError(t, s.WriteGantt(&b))
	assert.Equal(t, "|-    |P |-    |P    |\n0     2  3     5     7\n", b.String())
}

func TestEvents(t *testing.T) {
	t.Parallel()
	s, err := tutorial.Simulate(tutorial.BuiltinJobs(), tutorial.RoundRobin(2))
	require.NoError(t, err)
	var a []string
	for _, e := range s.Events {
		if e.Job == "A" {
			a = append(a, fmt.Sprintf("%d %s->%s", e.Time, e.From, e.To))
		}
	}
	assert.Equal(t, []string{
		"0 new->ready", "0 ready->running", "2 running->blocked", "6 blocked->ready",
		"9 ready->running", "11 running->ready", "13 ready->running", "14 running->terminated",
	}, a)
}

func TestParseJobs(t *testing.T) {
	t.Parallel()
	jobs, err := tutorial.ParseJobs("A:0:5:2+4, B:1:3,C:2:8,D:3:2")
	require.NoError(t, err)
	assert.Equal(t, tutorial.BuiltinJobs(), jobs)
	for _, bad := range []string{"", "A:0", "A:0:x", "A:0:3:1", "A:0:3:3+1", "A:0:0", "A:0:1,A:1:1", "A:-1:2"} {
		_, err := tutorial.ParseJobs(bad)
		assert.Error(t, err, bad)
	}
}

// TestProgram runs the program: the tables, the state changes of the
// round-robin run, and the real demonstration.
func TestProgram(t *testing.T) {
	t.Parallel()
	out := exampletest.MustRun(t, "-work", "100ms").Stdout
	for _, want := range []string{
		"-- first-come, first-served (FCFS) --\n|A    |B       |C                      |D    |A       |\n0     2        5                       13    15       18\n",
		"average waiting 5.75, average turnaround 11.25\n",
		"-- shortest job first (SJF) --\n",
		"average waiting 3.00, average turnaround 8.50\n",
		"-- round robin (RR), time slice 2 --\n",
		"average waiting 5.25, average turnaround 10.75\n",
		"-- multi-level feedback queue (MLFQ), time slices [2 4] then FCFS --\n",
		"average waiting 6.25, average turnaround 11.75\n",
		"-- state changes of the round-robin run",
		"t=2   A  running -> blocked     (waits for I/O until t=6)\n",
		"t=6   A  blocked -> ready       (I/O done)\n",
		"t=14  A  running -> terminated  (done)\n",
		"-- concurrency versus parallelism, with real processes --\n",
		"free to use every CPU (parallel):",
	} {
		assert.Contains(t, out, want)
	}
	assert.Regexp(t, `pinned to CPU \d+ \(concurrent, in turns\): |pinned to one CPU: unavailable here: CPU pinning is implemented for Linux`, out)
}

func TestCustomJobs(t *testing.T) {
	t.Parallel()
	out := exampletest.MustRun(t, "-jobs", "X:0:6,Y:3:1", "-quantum", "3", "-levels", "2,4", "-work", "0").Stdout
	assert.Contains(t, out, "-- round robin (RR), time slice 3 --\n|X       |Y |X       |\n0        3  4        7\n")
	assert.Contains(t, out, "t=3  X  running -> ready       (time slice used up)\n")
	assert.NotContains(t, out, "concurrency versus parallelism")

	r := exampletest.Run(t, "-jobs", "X:0", "-work", "0")
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stderr, `scheduling: job "X:0": want name:arrival:burst[:ioAt+ioTime]`)
}
