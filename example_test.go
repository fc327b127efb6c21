package mp_test

import (
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/isolation"
)

// greet is a target: a top-level function, registered by passing it to
// mp.Main (see TestMain in this package's tests).
func greet(name string) { fmt.Println("hello", name) }

func ExampleProcess() {
	p := mp.NewProcess(greet, "bob")
	if err := p.Start(); err != nil {
		log.Fatal(err)
	}
	if err := p.Join(); err != nil {
		log.Fatal(err)
	}
	code, _ := p.ExitCode()
	fmt.Println("exit code", code)
	// Output:
	// hello bob
	// exit code 0
}

func ExampleMain() {
	// The first statement of main (and of TestMain). In a child it runs the
	// target the parent asked for and exits; here, in the parent, it
	// registers greet and returns.
	mp.Main(greet)
	defer mp.Shutdown() // Python's behaviour at exit: join children

	p := mp.NewProcess(greet, "from a child")
	if err := p.Start(); err != nil {
		log.Fatal(err)
	}
	// Output: hello from a child
}

func ExampleSetForkserverPreload() {
	// Four children start now, and wait just past mp.Main; each Start under
	// Forkserver hands one of them its work, and another is started in its
	// place.
	if err := mp.SetForkserverPreload(4); err != nil {
		log.Fatal(err)
	}
	defer mp.SetForkserverPreload(mp.DefaultForkserverPreload)
	for _, name := range []string{"ann", "bob"} {
		p := mp.NewProcess(greet, name)
		p.StartMethod = mp.Forkserver
		if err := p.Start(); err != nil {
			log.Fatal(err)
		}
		if err := p.Join(); err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// hello ann
	// hello bob
}

func ExampleRunner() {
	// greeter is a Runner: its exported fields cross to the child.
	p := mp.NewProcess(&greeter{Greeting: "hi from", Times: 1})
	p.Name = "worker"
	if err := p.Start(); err != nil {
		log.Fatal(err)
	}
	_ = p.Join()
	// Output: hi from worker 0
}

func ExampleExitError() {
	p := mp.NewProcess(boom, "example") // boom panics
	if err := p.Start(); err != nil {
		log.Fatal(err)
	}
	err := p.Join()
	var e *mp.ExitError
	if errors.As(err, &e) {
		fmt.Println("exit code:", e.Code)
		fmt.Println("panic:", e.Panic)
		fmt.Println("stack names the panicking function:", strings.Contains(e.Stack, "mp_test.panicky("))
	}
	// Output:
	// exit code: 1
	// panic: boom: example
	// stack names the panicking function: true
}

func ExampleProcess_Terminate() {
	p := mp.NewProcess(sleep, time.Hour)
	if err := p.Start(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("alive:", p.IsAlive())
	_ = p.Terminate()
	<-p.Done() // the OS needs a moment: wait for the exit, like Python's sentinel
	code, _ := p.ExitCode()
	fmt.Println("alive:", p.IsAlive(), "exit code:", code)
	// Output:
	// alive: true
	// alive: false exit code: -15
}

func ExampleProcess_JoinTimeout() {
	p := mp.NewProcess(sleep, time.Hour)
	if err := p.Start(); err != nil {
		log.Fatal(err)
	}
	err := p.JoinTimeout(10 * time.Millisecond)
	fmt.Println(errors.Is(err, mp.ErrStillRunning))
	_ = p.Kill()
	_ = p.Join()
	// Output: true
}

// money is the tutorial's global: Fork carries its value as of Start,
// Spawn starts from the initial 100.
var money = 100

func init() { isolation.Inherit("money", &money) }

// spend changes the child's own copy of money.
func spend() {
	fmt.Println("child sees", money)
	money = 999
}

func ExampleProcess_isolation() {
	money = 500
	defer func() { money = 100 }()
	for _, method := range mp.AllStartMethods() {
		p := mp.NewProcess(spend)
		p.StartMethod = method
		fmt.Print(method, ": ")
		if err := p.Start(); err != nil {
			log.Fatal(err)
		}
		if err := p.Join(); err != nil {
			log.Fatal(err)
		}
		fmt.Println("parent still has", money)
	}
	// Output:
	// spawn: child sees 100
	// parent still has 500
	// fork: child sees 500
	// parent still has 500
	// forkserver: child sees 100
	// parent still has 500
}
