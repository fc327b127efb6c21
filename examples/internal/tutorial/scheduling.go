package tutorial

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Job is a job of the scheduling simulation. Times are in abstract units.
type Job struct {
	Name    string
	Arrival int // when it arrives
	Burst   int // the CPU time it needs in all
	// IOAt and IOTime describe one I/O wait: after IOAt units of CPU the
	// job blocks for IOTime units. IOTime 0 means no I/O.
	IOAt, IOTime int
}

// BuiltinJobs is the simulation's job list: A is interactive (it computes
// for 2 units, waits 4 for I/O, and computes 3 more), B, C and D only
// compute.
func BuiltinJobs() []Job {
	return []Job{
		{Name: "A", Arrival: 0, Burst: 5, IOAt: 2, IOTime: 4},
		{Name: "B", Arrival: 1, Burst: 3},
		{Name: "C", Arrival: 2, Burst: 8},
		{Name: "D", Arrival: 3, Burst: 2},
	}
}

// ParseJobs reads a job list written name:arrival:burst[:ioAt+ioTime],
// comma-separated, as in "A:0:5:2+4,B:1:3".
func ParseJobs(s string) ([]Job, error) {
	var jobs []Job
	for _, f := range strings.Split(s, ",") {
		parts := strings.Split(strings.TrimSpace(f), ":")
		if len(parts) != 3 && len(parts) != 4 {
			return nil, fmt.Errorf("job %q: want name:arrival:burst[:ioAt+ioTime]", f)
		}
		j := Job{Name: parts[0]}
		nums := []*int{&j.Arrival, &j.Burst}
		vals := parts[1:3]
		if len(parts) == 4 {
			at, t, ok := strings.Cut(parts[3], "+")
			if !ok {
				return nil, fmt.Errorf("job %q: want I/O as ioAt+ioTime", f)
			}
			nums = append(nums, &j.IOAt, &j.IOTime)
			vals = append(vals, at, t)
		}
		for i, v := range vals {
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("job %q: %w", f, err)
			}
			*nums[i] = n
		}
		jobs = append(jobs, j)
	}
	return jobs, validate(jobs)
}

// validate checks a job list.
func validate(jobs []Job) error {
	if len(jobs) == 0 {
		return errors.New("no jobs")
	}
	seen := map[string]bool{}
	for _, j := range jobs {
		switch {
		case j.Name == "" || seen[j.Name]:
			return fmt.Errorf("job %q: names must be unique and not empty", j.Name)
		case j.Arrival < 0 || j.Burst < 1 || j.IOTime < 0:
			return fmt.Errorf("job %s: want arrival >= 0, burst >= 1, I/O time >= 0", j.Name)
		case j.IOTime > 0 && (j.IOAt < 1 || j.IOAt >= j.Burst):
			return fmt.Errorf("job %s: I/O must start after 1 to %d units of CPU", j.Name, j.Burst-1)
		}
		seen[j.Name] = true
	}
	return nil
}

// Scheduler is a scheduling algorithm, made with FCFS, SJF, RoundRobin or
// MLFQ.
type Scheduler struct {
	Name     string
	shortest bool  // pick the ready job with the shortest next CPU burst
	quanta   []int // time slice of each queue; none: run until done or blocked
	feedback bool  // MLFQ: queues by priority, plus a last one without slices
}

// FCFS is first-come, first-served: jobs run in the order they became
// ready, each until it finishes or blocks.
func FCFS() Scheduler { return Scheduler{Name: "first-come, first-served (FCFS)"} }

// SJF is shortest job first, non-preemptive: the ready job with the
// shortest next CPU burst runs until it finishes or blocks.
func SJF() Scheduler { return Scheduler{Name: "shortest job first (SJF)", shortest: true} }

// RoundRobin runs jobs in the order they became ready, each for at most
// quantum units at a time, then to the back of the queue.
func RoundRobin(quantum int) Scheduler {
	return Scheduler{Name: fmt.Sprintf("round robin (RR), time slice %d", quantum), quanta: []int{quantum}}
}

// MLFQ is a multi-level feedback queue: one queue per time slice in quanta,
// highest priority first, and a last first-come, first-served queue. Jobs
// arrive in the first queue. A job still running when its time slice ends
// moves down a queue; one that blocks or finishes keeps its queue, so
// interactive jobs stay on top. The highest non-empty queue runs, and a job
// becoming ready in a higher queue preempts a running job of a lower one,
// which keeps its queue.
func MLFQ(quanta ...int) Scheduler {
	return Scheduler{Name: fmt.Sprintf("multi-level feedback queue (MLFQ), time slices %v then FCFS", quanta),
		quanta: quanta, feedback: true}
}

// JobState is a state of the textbook five-state process model.
type JobState string

// The states of the five-state model.
const (
	StateNew        JobState = "new"
	StateReady      JobState = "ready"
	StateRunning    JobState = "running"
	StateBlocked    JobState = "blocked"
	StateTerminated JobState = "terminated"
)

// Event is a job's change of state at a time.
type Event struct {
	Time     int
	Job      string
	From, To JobState
	Note     string
}

// Slice is a stretch of the Gantt chart: Job ran from Start to End; an
// empty Job means the CPU was idle.
type Slice struct {
	Job        string
	Start, End int
}

// Result is how one job fared: Turnaround is Finish - Arrival, Waiting the
// time it spent ready but not running (Turnaround - Burst - IOTime),
// Response the time from arrival to first running.
type Result struct {
	Job
	Finish, Turnaround, Waiting, Response int
}

// Schedule is the outcome of a simulation.
type Schedule struct {
	Scheduler     string
	Gantt         []Slice
	Jobs          []Result // in the order of the job list
	Events        []Event
	AvgWaiting    float64
	AvgTurnaround float64
}

// Simulate runs jobs under s, one unit of time at a time. At each time the
// jobs arriving join the ready queue first, then those whose I/O is done,
// then the one whose time slice just ended; then, if the CPU is free, s
// picks the next job.
func Simulate(jobs []Job, s Scheduler) (*Schedule, error) {
	if err := validate(jobs); err != nil {
		return nil, err
	}
	for _, q := range s.quanta {
		if q < 1 {
			return nil, fmt.Errorf("time slice %d: want 1 or more", q)
		}
	}
	n := len(jobs)
	out := &Schedule{Scheduler: s.Name, Jobs: make([]Result, n)}
	levels := 1
	if s.feedback {
		levels = len(s.quanta) + 1
	}
	queues := make([][]int, levels)
	done := make([]int, n)  // CPU time used
	level := make([]int, n) // MLFQ queue
	wake := make([]int, n)  // end of I/O
	first := make([]int, n) // first time running
	for i := range first {
		first[i] = -1
	}
	arrivals := make([]int, n) // job indexes by arrival, stable
	for i := range arrivals {
		arrivals[i] = i
	}
	slices.SortStableFunc(arrivals, func(a, b int) int { return jobs[a].Arrival - jobs[b].Arrival })

	event := func(t, i int, from, to JobState, note string) {
		out.Events = append(out.Events, Event{Time: t, Job: jobs[i].Name, From: from, To: to, Note: note})
	}
	quantum := func(i int) int { // 0: no time slice
		switch {
		case s.feedback && level[i] < len(s.quanta):
			return s.quanta[level[i]]
		case !s.feedback && len(s.quanta) > 0:
			return s.quanta[0]
		}
		return 0
	}
	nextBurst := func(i int) int {
		if jobs[i].IOTime > 0 && done[i] < jobs[i].IOAt {
			return jobs[i].IOAt - done[i]
		}
		return jobs[i].Burst - done[i]
	}
	pick := func() int {
		for l, q := range queues {
			if len(q) == 0 {
				continue
			}
			k := 0
			if s.shortest {
				for j := range q {
					if nextBurst(q[j]) < nextBurst(q[k]) {
						k = j
					}
				}
			}
			i := q[k]
			queues[l] = slices.Delete(q, k, k+1)
			return i
		}
		return -1
	}
	higherReady := func(l int) bool {
		for _, q := range queues[:l] {
			if len(q) > 0 {
				return true
			}
		}
		return false
	}

	var blocked []int // in the order they blocked
	running, used, preempted, next, finished := -1, 0, -1, 0, 0
	for t := 0; finished < n; t++ {
		for ; next < n && jobs[arrivals[next]].Arrival == t; next++ {
			i := arrivals[next]
			event(t, i, StateNew, StateReady, "arrives")
			queues[0] = append(queues[0], i)
		}
		still := blocked[:0]
		for _, i := range blocked {
			if wake[i] == t {
				event(t, i, StateBlocked, StateReady, "I/O done")
				queues[level[i]] = append(queues[level[i]], i)
			} else {
				still = append(still, i)
			}
		}
		blocked = still
		if preempted >= 0 {
			queues[level[preempted]] = append(queues[level[preempted]], preempted)
			preempted = -1
		}
		if running >= 0 && s.feedback && higherReady(level[running]) {
			event(t, running, StateRunning, StateReady, "preempted by a job in a higher queue")
			queues[level[running]] = append(queues[level[running]], running)
			running = -1
		}
		if running < 0 {
			if running = pick(); running >= 0 {
				event(t, running, StateReady, StateRunning, "")
				used = 0
				if first[running] < 0 {
					first[running] = t
				}
			}
		}

		// Run one unit.
		name := ""
		if running >= 0 {
			name = jobs[running].Name
			done[running]++
			used++
		}
		if g := out.Gantt; len(g) > 0 && g[len(g)-1].Job == name {
			g[len(g)-1].End = t + 1
		} else {
			out.Gantt = append(out.Gantt, Slice{Job: name, Start: t, End: t + 1})
		}
		if running < 0 {
			continue
		}

		i, end := running, t+1
		j := jobs[i]
		switch q := quantum(i); {
		case done[i] == j.Burst:
			event(end, i, StateRunning, StateTerminated, "done")
			r := Result{Job: j, Finish: end, Turnaround: end - j.Arrival, Response: first[i] - j.Arrival}
			r.Waiting = r.Turnaround - j.Burst - j.IOTime
			out.Jobs[i] = r
			finished++
			running = -1
		case j.IOTime > 0 && done[i] == j.IOAt:
			wake[i] = end + j.IOTime
			event(end, i, StateRunning, StateBlocked, fmt.Sprintf("waits for I/O until t=%d", wake[i]))
			blocked = append(blocked, i)
			running = -1
		case q > 0 && used == q:
			note := "time slice used up"
			if s.feedback && level[i] < len(s.quanta) {
				level[i]++
				note += fmt.Sprintf(", down to queue %d", level[i])
			}
			event(end, i, StateRunning, StateReady, note)
			preempted = i
			running = -1
		}
	}
	for _, r := range out.Jobs {
		out.AvgWaiting += float64(r.Waiting) / float64(n)
		out.AvgTurnaround += float64(r.Turnaround) / float64(n)
	}
	return out, nil
}

// WriteGantt draws the Gantt chart of s, three columns per unit of time,
// with the times below.
func (s *Schedule) WriteGantt(w io.Writer) error {
	const unit = 3
	var bar, axis strings.Builder
	mark := func(t int) {
		pos := unit * (t - s.Gantt[0].Start)
		if axis.Len() < pos {
			axis.WriteString(strings.Repeat(" ", pos-axis.Len()))
		} else if axis.Len() > 0 {
			axis.WriteByte(' ')
		}
		axis.WriteString(strconv.Itoa(t))
	}
	for _, sl := range s.Gantt {
		width := unit * (sl.End - sl.Start)
		label := sl.Job
		if label == "" {
			label = "-"
		}
		cell := "|" + label
		if len(cell) > width {
			cell = cell[:width]
		}
		bar.WriteString(cell + strings.Repeat(" ", width-len(cell)))
		mark(sl.Start)
	}
	bar.WriteByte('|')
	mark(s.Gantt[len(s.Gantt)-1].End)
	_, err := fmt.Fprintf(w, "%s\n%s\n", bar.String(), axis.String())
	return err
}

// WriteTable prints each job's times, and the averages.
func (s *Schedule) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "job\tarrival\tburst\tI/O\tfinish\tturnaround\twaiting\tresponse")
	for _, r := range s.Jobs {
		wait := "-"
		if r.IOTime > 0 {
			wait = fmt.Sprintf("%d after %d", r.IOTime, r.IOAt)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\t%d\t%d\t%d\n",
			r.Name, r.Arrival, r.Burst, wait, r.Finish, r.Turnaround, r.Waiting, r.Response)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "average waiting %.2f, average turnaround %.2f\n", s.AvgWaiting, s.AvgTurnaround)
	return err
}

// WriteEvents prints the state changes of the run, in time order.
func (s *Schedule) WriteEvents(w io.Writer) error {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, e := range s.Events {
		note := ""
		if e.Note != "" {
			note = "(" + e.Note + ")"
		}
		fmt.Fprintf(tw, "t=%d\t%s\t%s -> %s\t%s\n", e.Time, e.Job, e.From, e.To, note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// Lines without a note end in the padding of the state column.
	for line := range strings.Lines(b.String()) {
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	return nil
}
