package tutorial

import (
	"github.com/go-mp/mp"
	"github.com/go-mp/mp/isolation"
)

// money is the tutorial's global: every process has its own.
var money = 100

// savings is a global registered with isolation.Inherit: a child started
// with the Fork method is given its value as of Start.
var savings = 100

// init registers savings, in the parent and in every child alike.
func init() { isolation.Inherit("savings", &savings) }

// Isolation shows that processes share no memory. A child sets the global
// money to 999; the parent's money is still 100 afterwards, under every start
// method. Then the parent sets savings, a global registered with
// isolation.Inherit, to 500 before starting a child under each method: the
// one started with Fork sees 500, those started with Spawn and Forkserver
// the initial 100.
func Isolation() error {
	for _, m := range mp.AllStartMethods() {
		say("-- money (not registered), start method %s --", m)
		// Python: p = Process(target=change_money); p.start(); p.join(); print(money)
		p := mp.NewProcess(changeMoney, string(m))
		p.StartMethod = m
		if err := p.Start(); err != nil {
			return err
		}
		if err := p.Join(); err != nil {
			return err
		}
		say("parent (%s) after join: money = %d", m, money)
	}

	say("-- savings, registered with isolation.Inherit(%q, &savings) --", "savings")
	defer func(v int) { savings = v }(savings)
	savings = 500
	say("parent: savings = %d, set before Start", savings)
	for _, m := range mp.AllStartMethods() {
		p := mp.NewProcess(showSavings, string(m))
		p.StartMethod = m
		if err := p.Start(); err != nil {
			return err
		}
		if err := p.Join(); err != nil {
			return err
		}
	}
	say("parent after join: savings = %d (what a child did to its copy stays in the child)", savings)
	return nil
}

// changeMoney is the tutorial's child: it changes its money to 999.
func changeMoney(method string) {
	say("child (%s): money = %d, setting it to 999", method, money)
	// Python: global money; money = 999; print(money)
	money = 999
	say("child (%s): money = %d", method, money)
}

// showSavings prints the child's savings, then spends them.
func showSavings(method string) {
	why := "Spawn: the initial value"
	switch method {
	case string(mp.Fork):
		why = "Fork: the parent's value as of Start"
	case string(mp.Forkserver):
		why = "Forkserver: the initial value, in a child started ahead of time"
	}
	say("child (%s): savings = %d (%s); spending them all", method, savings, why)
	savings = 0
}
