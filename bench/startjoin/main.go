// Command startjoin measures what starting and joining a child costs a
// user program that imports only mp and mp/isolation, as a program built
// with go build is linked: BenchmarkStartJoinProgram builds and runs it.
// (The test binary itself always links net through testify, so it cannot
// show the cost of dynamic linking.)
//
// It alternates a bare re-exec of itself that exits before mp.Main (the
// floor) with mp's Start+Join of a no-op target, n times each, and prints
// the medians in milliseconds as one JSON line:
//
//	startjoin -n 200 -method spawn
//	{"floor_ms":1.21,"mp_ms":1.43,"n":200,"method":"spawn"}
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"time"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/isolation"
)

// floorEnv makes the program exit at once, before mp.Main: the floor.
const floorEnv = "MP_STARTJOIN_FLOOR"

// counter is carried to children by the Fork method, so that the program
// uses package isolation as a user program would.
var counter int

func init() { isolation.Inherit("startjoin.counter", &counter) }

func noop() {}

// Result is the line the program prints.
type Result struct {
	FloorMS float64 `json:"floor_ms"`
	MPMS    float64 `json:"mp_ms"`
	N       int     `json:"n"`
	Method  string  `json:"method"`
}

func main() {
	if os.Getenv(floorEnv) == "1" {
		os.Exit(0)
	}
	mp.Main(noop)
	n := flag.Int("n", 100, "iterations of each")
	method := flag.String("method", string(mp.Spawn), "start method")
	flag.Parse()
	if err := run(*n, mp.StartMethod(*method)); err != nil {
		fmt.Fprintln(os.Stderr, "startjoin:", err)
		os.Exit(1)
	}
}

func run(n int, method mp.StartMethod) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	var floor, ours []time.Duration
	for range n {
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), floorEnv+"=1")
		t0 := time.Now()
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		floor = append(floor, time.Since(t0))

		p := mp.NewProcess(noop)
		p.StartMethod = method
		t0 = time.Now()
		if err := p.Start(); err != nil {
			return err
		}
		if err := p.Join(); err != nil {
			return err
		}
		ours = append(ours, time.Since(t0))
		if err := p.Close(); err != nil {
			return err
		}
	}
	return json.NewEncoder(os.Stdout).Encode(Result{
		FloorMS: ms(median(floor)),
		MPMS:    ms(median(ours)),
		N:       n,
		Method:  string(method),
	})
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }
