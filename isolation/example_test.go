package isolation_test

import (
	"fmt"
	"log"

	"github.com/go-mp/mp"
)

// money is registered in this package's init:
//
//	isolation.Inherit("money", &money)
func ExampleInherit() {
	money = 500 // as of Start, Fork carries this value; Spawn does not
	defer func() { money = 100 }()
	for _, m := range mp.AllStartMethods() {
		p := mp.NewProcess(show)
		p.StartMethod = m
		fmt.Print(m, ": ")
		if err := p.Start(); err != nil {
			log.Fatal(err)
		}
		if err := p.Join(); err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// spawn: money=100 settings=initial/nil/map[] notCarried=initial
	// fork: money=500 settings=initial/nil/map[] notCarried=initial
	// forkserver: money=100 settings=initial/nil/map[] notCarried=initial
}
