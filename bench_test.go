package mp_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/go-mp/mp"
)

// BenchmarkStartJoin measures Start+Join of a no-op target against a floor
// measured in the same loop: a bare os/exec re-exec of this test binary that
// exits at once (before mp.Main). Iterations alternate, so that a noisy
// neighbour slows both alike. It reports medians and their ratio
// ("x-floor"); the goal is at most 1.25.
func BenchmarkStartJoin(b *testing.B) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range mp.AllStartMethods() {
		b.Run(string(m), func(b *testing.B) {
			var floor, ours []time.Duration
			for b.Loop() {
				cmd := exec.Command(exe)
				cmd.Env = append(os.Environ(), helperEnv+"=floor")
				cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
				t0 := time.Now()
				if err := cmd.Run(); err != nil {
					b.Fatal(err)
				}
				floor = append(floor, time.Since(t0))

				p := mp.NewProcess(noop)
				p.StartMethod = m
				t0 = time.Now()
				if err := p.Start(); err != nil {
					b.Fatal(err)
				}
				if err := p.Join(); err != nil {
					b.Fatal(err)
				}
				ours = append(ours, time.Since(t0))
				_ = p.Close()
			}
			f, o := median(floor), median(ours)
			b.ReportMetric(f.Seconds()*1e3, "floor-ms")
			b.ReportMetric(o.Seconds()*1e3, "mp-ms")
			b.ReportMetric(o.Seconds()/f.Seconds(), "x-floor")
		})
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkStartJoinProgram measures Start+Join in bench/startjoin, a
// program that imports only mp and mp/isolation, built as go build builds
// it: unlike this test binary (which links net through testify), it is
// statically linked, as a user's program is. The program alternates a bare
// re-exec of itself (the floor) with Start+Join, b.N times each, and
// reports the medians ("floor-ms", "mp-ms"), their ratio ("x-floor") and
// whether the binary was linked statically ("static", 1 or 0):
//
//	go test -run '^$' -bench StartJoinProgram -benchtime 300x -count 3 .
func BenchmarkStartJoinProgram(b *testing.B) {
	exe := buildStartJoin(b)
	static := 0.0
	if isStatic(b, exe) {
		static = 1
	}
	for _, m := range mp.AllStartMethods() {
		b.Run(string(m), func(b *testing.B) {
			out, err := exec.Command(exe, "-n", strconv.Itoa(b.N), "-method", string(m)).Output()
			if err != nil {
				b.Fatalf("%v: %s", err, stderrOf(err))
			}
			var r struct {
				FloorMS float64 `json:"floor_ms"`
				MPMS    float64 `json:"mp_ms"`
			}
			if err := json.Unmarshal(out, &r); err != nil {
				b.Fatalf("%v: %q", err, out)
			}
			b.ReportMetric(r.FloorMS, "floor-ms")
			b.ReportMetric(r.MPMS, "mp-ms")
			b.ReportMetric(r.MPMS/r.FloorMS, "x-floor")
			b.ReportMetric(static, "static")
		})
	}
}

// BenchmarkForkserver measures what Forkserver is for, against Spawn in
// the same run, iterations alternating: start+join of a no-op ("x-spawn",
// the goal is at most 0.3), Start alone (the goal is a median of at most
// 100 µs), and 100 children started together and then joined (at most
// 0.5). Before each timed iteration of either method, the children that
// Forkserver starts ahead of time are all waiting (SetForkserverPreload
// returns then), so that their start-up, paid ahead of time, is counted
// in neither method's figure.
func BenchmarkForkserver(b *testing.B) {
	b.Cleanup(func() { _ = mp.SetForkserverPreload(mp.DefaultForkserverPreload) })
	run := func(b *testing.B, n int, m mp.StartMethod, startOnly bool) time.Duration {
		b.Helper()
		if err := mp.SetForkserverPreload(max(n, mp.DefaultForkserverPreload)); err != nil {
			b.Fatal(err)
		}
		ps := make([]*mp.Process, n)
		for i := range ps {
			ps[i] = mp.NewProcess(noop)
			ps[i].StartMethod = m
		}
		t0 := time.Now()
		for _, p := range ps {
			if err := p.Start(); err != nil {
				b.Fatal(err)
			}
		}
		started := time.Since(t0)
		for _, p := range ps {
			if err := p.Join(); err != nil {
				b.Fatal(err)
			}
		}
		d := time.Since(t0)
		for _, p := range ps {
			_ = p.Close()
		}
		if startOnly {
			return started
		}
		return d
	}
	for _, c := range []struct {
		name      string
		n         int
		startOnly bool
	}{{"start+join", 1, false}, {"start", 1, true}, {"100 together", 100, false}} {
		b.Run(c.name, func(b *testing.B) {
			var spawn, fs []time.Duration
			for b.Loop() {
				spawn = append(spawn, run(b, c.n, mp.Spawn, c.startOnly))
				fs = append(fs, run(b, c.n, mp.Forkserver, c.startOnly))
			}
			s, f := median(spawn), median(fs)
			b.ReportMetric(s.Seconds()*1e3, "spawn-ms")
			b.ReportMetric(f.Seconds()*1e3, "forkserver-ms")
			b.ReportMetric(f.Seconds()/s.Seconds(), "x-spawn")
		})
	}
}
