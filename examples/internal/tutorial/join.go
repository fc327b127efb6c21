package tutorial

import (
	"time"

	"github.com/go-mp/mp"
)

// Join starts three children that sleep 1, 2 and 3 units, first all
// together and then joined, then one by one, each joined before the next
// starts. Together they take about as long as the longest sleep (3 units);
// one by one, as long as all the sleeps added up (6 units). It returns both
// wall times.
func Join(unit time.Duration) (together, oneByOne time.Duration, err error) {
	sleeps := []time.Duration{unit, 2 * unit, 3 * unit}
	say("three children sleep %v, %v and %v", sleeps[0], sleeps[1], sleeps[2])

	say("-- started together, then joined --")
	began := time.Now()
	var ps []*mp.Process
	for _, d := range sleeps {
		p := mp.NewProcess(sleeper, d)
		if err := p.Start(); err != nil {
			return 0, 0, err
		}
		ps = append(ps, p)
	}
	// Python: for p in ps: p.join()
	for _, p := range ps {
		if err := p.Join(); err != nil {
			return 0, 0, err
		}
	}
	together = time.Since(began)
	say("started together, then joined: %v (about the longest sleep, %v)", together.Round(time.Millisecond), sleeps[2])

	say("-- started and joined one by one --")
	began = time.Now()
	for _, d := range sleeps {
		// Python: p.start(); p.join()
		p := mp.NewProcess(sleeper, d)
		if err := p.Start(); err != nil {
			return 0, 0, err
		}
		if err := p.Join(); err != nil {
			return 0, 0, err
		}
	}
	oneByOne = time.Since(began)
	say("started and joined one by one: %v (about the sum of the sleeps, %v)", oneByOne.Round(time.Millisecond), sleeps[0]+sleeps[1]+sleeps[2])
	return together, oneByOne, nil
}

// sleeper is a child that sleeps for d.
func sleeper(d time.Duration) {
	name := mp.CurrentProcess().Name
	say("%s: sleeping %v", name, d)
	time.Sleep(d)
	say("%s: awake", name)
}
