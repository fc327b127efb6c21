package mp_test

import (
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/go-mp/mp"
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
