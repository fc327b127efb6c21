package mp_test

import (
	"os"
	"os/exec"
	"slices"
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
