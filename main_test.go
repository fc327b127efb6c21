package mp_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/go-mp/mp"
)

// Targets of the tests. Each is registered in TestMain, as a program
// registers its own in main.
var targets = []any{
	noop, sleep, fail, boom, crash, exitWith, whoAmI, tree, startFromDaemon,
	orphanParent, spin, echoEnv, variadic, takesChan, &greeter{}, greet, speak, spend,
}

// helpers are modes in which TestMain plays another program instead of
// running the tests; each must be used by a test (see TestHelpersUsed).
var helpers = map[string]func(){
	"floor":   func() { os.Exit(0) },                            // BenchmarkStartJoin's floor
	"noguard": noGuardMain,                                      // a program that forgot mp.Main
	"role":    func() { fmt.Println(mp.CurrentProcess().Name) }, // after mp.Main
	"linger":  linger,                                           // a grandchild that holds its stdout
	"pool":    forgottenPool,                                    // TestPoolShutdown's program
}

const helperEnv = "MP_TEST_HELPER"

func TestMain(m *testing.M) {
	// Before the guard: this runs in children too, as code before mp.Main
	// does in any program.
	if h := os.Getenv(helperEnv); h == "floor" || h == "noguard" || h == "linger" {
		helpers[h]()
		os.Exit(0)
	}
	if d, err := time.ParseDuration(os.Getenv(slowMainEnv)); err == nil {
		time.Sleep(d) // a child slow to take its bootstrap
	}
	mp.Main(append(targets, ipcTargets...)...)
	if path := os.Getenv(pastMainEnv); path != "" {
		notePastMain(path)
	}
	// Race-enabled children otherwise sleep 1 s at exit to flush reports.
	if os.Getenv("GORACE") == "" {
		os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
	if h := os.Getenv(helperEnv); h != "" {
		helpers[h]()
		os.Exit(0)
	}
	code := m.Run()
	// Children waiting for work under Forkserver, and their watchers, are
	// not leaks: end them first.
	mp.StopForkserver()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: errors on successful test run: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// pastMainEnv names a file to which a process that returns from mp.Main
// appends its PID: a parent does, a child never does, with its work or
// waiting for it (TestForkserverWaitsPastMain).
const pastMainEnv = "MP_TEST_PAST_MAIN"

func notePastMain(path string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		panic(err)
	}
	fmt.Fprintln(f, os.Getpid())
	if err := f.Close(); err != nil {
		panic(err)
	}
}

func noop() {}

func sleep(d time.Duration) { time.Sleep(d) }

func fail(msg string) error { return &testError{msg} }

type testError struct{ msg string }

func (e *testError) Error() string { return e.msg }

func boom(v string) { panicky(v) }

func panicky(v string) { panic("boom: " + v) }

// crash dies of an unrecovered panic in a goroutine it started. It waits
// for ever: a deferred close of a channel would run before the crash and
// let the target return (and the child exit with 0) first.
func crash() {
	go crashingGoroutine()
	select {}
}

func crashingGoroutine() { panic("crash in a goroutine") }

func exitWith(code int) { os.Exit(code) }

// identity is what whoAmI prints, as JSON on one line.
type identity struct {
	Args       []any
	Name       string
	PID        int
	Getpid     int
	Daemon     bool
	ParentPID  int
	ParentName string
	Dir        string
}

func whoAmI(s string, n int, f float64, m map[string]int) {
	cur := mp.CurrentProcess()
	id := identity{Args: []any{s, n, f, m}, Name: cur.Name, PID: cur.PID(), Getpid: os.Getpid(), Daemon: cur.Daemon}
	if pp := mp.ParentProcess(); pp != nil {
		id.ParentPID, id.ParentName = pp.PID(), pp.Name
	}
	id.Dir, _ = os.Getwd()
	b, _ := json.Marshal(id)
	fmt.Println(string(b))
}

// tree prints its name and starts fanout children of depth-1, under the
// start method m.
func tree(depth, fanout int, m mp.StartMethod) error {
	fmt.Println(mp.CurrentProcess().Name)
	if depth == 0 {
		return nil
	}
	var ps []*mp.Process
	for range fanout {
		p := mp.NewProcess(tree, depth-1, fanout, m)
		p.StartMethod = m
		if err := p.Start(); err != nil {
			return err
		}
		ps = append(ps, p)
	}
	for _, p := range ps {
		if err := p.Join(); err != nil {
			return err
		}
	}
	return nil
}

func startFromDaemon(m mp.StartMethod) error {
	p := mp.NewProcess(noop)
	p.StartMethod = m
	err := p.Start()
	if !errors.Is(err, mp.ErrDaemonic) {
		return fmt.Errorf("want ErrDaemonic, got %v", err)
	}
	return err
}

// orphanParent starts a daemon and a non-daemon child that sleep, under
// the start method m, prints their PIDs, and under Forkserver those of the
// children that wait for work too, and sleeps until killed.
func orphanParent(m mp.StartMethod) error {
	if m == mp.Forkserver {
		if err := mp.SetForkserverPreload(2); err != nil {
			return err
		}
	}
	d := mp.NewProcess(sleep, time.Hour)
	d.Daemon = true
	n := mp.NewProcess(sleep, time.Hour)
	pids := []any{}
	for _, p := range []*mp.Process{d, n} {
		p.StartMethod = m
		if err := p.Start(); err != nil {
			return err
		}
		pids = append(pids, p.PID())
	}
	if m == mp.Forkserver {
		// Two replaced the two taken, and wait.
		if err := mp.SetForkserverPreload(2); err != nil {
			return err
		}
		waiting, _ := mp.ForkserverIdle()
		for _, pid := range waiting {
			pids = append(pids, pid)
		}
	}
	fmt.Println(pids...)
	time.Sleep(time.Hour)
	return nil
}

func spin(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
	}
}

func echoEnv(key string) {
	dir, _ := os.Getwd()
	fmt.Printf("%s=%s dir=%s\n", key, os.Getenv(key), dir)
}

func variadic(prefix string, xs ...int) {
	fmt.Println(prefix, xs)
}

func takesChan(chan int) {}

func speak() {
	fmt.Fprintln(os.Stdout, "to stdout")
	fmt.Fprintln(os.Stderr, "to stderr")
}

// greeter is a Runner target: Python's Process subclass.
type greeter struct {
	Greeting string
	Times    int
	hidden   int `mp:"-"` // left behind: zero in the child
}

func (g *greeter) Run() error {
	for range g.Times {
		fmt.Println(g.Greeting, mp.CurrentProcess().Name, g.hidden)
	}
	return nil
}

// methodEnv names the start method of the process noGuardMain starts.
const methodEnv = "MP_TEST_METHOD"

// noGuardMain is a program without mp.Main that starts a process: its
// child, which runs this again, must be refused.
func noGuardMain() {
	// As every program should: Shutdown ends the children Forkserver
	// started ahead of time, and waits for them, before the program
	// exits. (Without it, an exit in the middle of starting one left, under
	// Wine, a process that never ended and held the test's output.)
	defer mp.Shutdown()
	p := mp.NewProcess(noop)
	p.StartMethod = mp.StartMethod(os.Getenv(methodEnv))
	if err := p.Start(); err != nil {
		fmt.Printf("start refused in pid %d: %v\n", os.Getpid(), err)
		return
	}
	fmt.Printf("started pid %d from pid %d\n", p.PID(), os.Getpid())
	err := p.Join()
	fmt.Printf("join: guard=%v: %v\n", errors.Is(err, mp.ErrMainGuard), err)
}

func init() { mp.Register(noop) } // noGuardMain's target, registered without mp.Main
