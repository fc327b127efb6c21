package tutorial

import (
	"fmt"
	"os"
	"time"

	"github.com/go-mp/mp"
)

// init registers the targets of every step, and plays the program
// without a guard when NoGuardEnv is set (see MainGuard).
func init() {
	// The targets of every step, in the tutorial's order. Registering them
	// here, rather than in each program's mp.Main call, lets the examples and
	// the tour share them.
	mp.Register(
		udpServer, timeServer, burn, runProc, &MyProcess{}, sleeper,
		changeMoney, showSavings, guardChild, identify, sleepFor, spinFor,
		produce, consume, pong,
		addUnderLock, workUntilStopped, inLockstep,
		setPiNegate, sumPart, greetByName,
		// The pool's task functions, with their types (see mp.Task).
		mp.Task(square), mp.Task(pidAfter), mp.Task(dieNow), mp.Task(countWords), mp.Task(sumCounts),
	)
	traceInit("init()")
	if os.Getenv(NoGuardEnv) != "" {
		// Play a program that forgot mp.Main; see MainGuard.
		withoutGuard()
		os.Exit(0)
	}
}

// say prints one line prefixed with the PID of the calling process, as the
// tutorial's prints of os.getpid() do. One Printf is one write, so lines of
// processes sharing standard output do not mix.
func say(format string, args ...any) {
	fmt.Printf("[pid %d] %s\n", os.Getpid(), fmt.Sprintf(format, args...))
}

// signed formats d with an explicit sign, so that "+3µs" and "-3µs" line up;
// time.ParseDuration reads it back.
func signed(d time.Duration) string {
	if d < 0 {
		return d.String()
	}
	return "+" + d.String()
}
