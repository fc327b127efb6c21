package tutorial_test

import (
	"fmt"
	"os"

	"github.com/go-mp/mp/examples/internal/tutorial"
)

func ExampleSimulate() {
	s, err := tutorial.Simulate(tutorial.BuiltinJobs(), tutorial.RoundRobin(2))
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = s.WriteGantt(os.Stdout)
	_ = s.WriteTable(os.Stdout)
	// Output:
	// |A    |B    |C    |D    |B |A    |C    |A |C          |
	// 0     2     4     6     8  9     11    13 14          18
	// job  arrival  burst  I/O        finish  turnaround  waiting  response
	// A    0        5      4 after 2  14      14          5        0
	// B    1        3      -          9       8           5        1
	// C    2        8      -          18      16          8        2
	// D    3        2      -          8       5           3        3
	// average waiting 5.25, average turnaround 10.75
}

func ExampleSchedule_WriteEvents() {
	jobs, err := tutorial.ParseJobs("P:0:3:1+2,Q:1:2")
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := tutorial.Simulate(jobs, tutorial.FCFS())
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = s.WriteEvents(os.Stdout)
	// Output:
	// t=0  P  new -> ready           (arrives)
	// t=0  P  ready -> running
	// t=1  P  running -> blocked     (waits for I/O until t=3)
	// t=1  Q  new -> ready           (arrives)
	// t=1  Q  ready -> running
	// t=3  Q  running -> terminated  (done)
	// t=3  P  blocked -> ready       (I/O done)
	// t=3  P  ready -> running
	// t=5  P  running -> terminated  (done)
}
