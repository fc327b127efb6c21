package tutorial

import (
	"time"

	"github.com/go-mp/mp"
)

// Create runs the tutorial's first program twice: a child running a
// function, then the same child written as a Runner, Python's Process
// subclass. Each child says it is running, sleeps for sleep, and says it is
// over; the parent waits for it with Join.
func Create(sleep time.Duration) error {
	// Python: print('Parent process %s.' % os.getpid())
	say("main: parent process")

	// Python: p = Process(target=run_proc, args=('test',)); p.start(); p.join()
	p := mp.NewProcess(runProc, "test", sleep)
	if err := p.Start(); err != nil {
		return err
	}
	if err := p.Join(); err != nil {
		return err
	}
	code, _ := p.ExitCode()
	say("main: %s exited with code %d", p.Name, code)

	// Python: class MyProcess(Process): def run(self): ...
	//         p = MyProcess(name='my-process'); p.start(); p.join()
	say("main: the same child as a Runner, Python's class MyProcess(Process) with run")
	q := mp.NewProcess(&MyProcess{Sleep: sleep})
	q.Name = "my-process"
	if err := q.Start(); err != nil {
		return err
	}
	if err := q.Join(); err != nil {
		return err
	}
	code, _ = q.ExitCode()
	say("main: %s exited with code %d", q.Name, code)
	return nil
}

// runProc is the tutorial's run_proc: a child that says who it is, works
// (sleeps) and says it is over.
func runProc(name string, sleep time.Duration) {
	say("child of pid %d: %s running", mp.ParentProcess().PID(), name)
	time.Sleep(sleep)
	say("%s is over", name)
}

// MyProcess is runProc as a Runner: Python's Process subclass whose run
// method is the child's work. Its exported fields are carried to the child;
// its name is the Process's Name.
type MyProcess struct {
	Sleep time.Duration // how long the work takes
}

// Run is the child's work, Python's run method.
func (m *MyProcess) Run() error {
	name := mp.CurrentProcess().Name
	say("child of pid %d: %s running", mp.ParentProcess().PID(), name)
	time.Sleep(m.Sleep)
	say("%s is over", name)
	return nil
}
