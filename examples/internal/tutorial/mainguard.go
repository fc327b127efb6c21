package tutorial

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/go-mp/mp"
)

// ShowInitEnv, when set in a process's environment, makes this package's
// initialisers print a line. MainGuard sets it for its child, to show that
// package initialisation runs again in every child.
const ShowInitEnv = "MP_TUTORIAL_SHOW_INIT"

// NoGuardEnv, when set in a process's environment, makes this package's
// init play a program that forgot mp.Main: it starts a process straight
// away, and exits. MainGuard re-runs the program with it set.
const NoGuardEnv = "MP_TUTORIAL_NO_GUARD"

// A package-level variable initialiser: it runs before main in every
// process that imports the package, parent and children alike.
var _ = traceInit("package-level variable initialiser")

// traceInit prints that an initialiser ran, if ShowInitEnv is set.
func traceInit(what string) bool {
	if os.Getenv(ShowInitEnv) == "" {
		return false
	}
	say("package tutorial: %s ran", what)
	return true
}

// MainGuard shows which code runs in a child, and what a forgotten main
// guard does.
//
// Everything before mp.Main (package-level initialisers, init functions)
// runs again in every child, as Python re-imports the main module in a
// spawned child; in a child mp.Main then runs the target and exits, so the
// rest of main never runs there. Python needs if __name__ == '__main__' to
// tell the two apart; mp.Main is that test.
//
// A program that starts a process before mp.Main would, in the child, start
// another, and so on without end. mp refuses: the child's Start returns
// mp.ErrMainGuard, and the parent's Join returns an error wrapping it.
// MainGuard shows this by re-running the program with NoGuardEnv set.
func MainGuard() error {
	say("main: mp.Main returned, so this is the main process; package initialisation ran here too, before main (silently: set %s=1 to see it)", ShowInitEnv)
	p := mp.NewProcess(guardChild)
	p.Env = append(os.Environ(), ShowInitEnv+"=1")
	if err := p.Start(); err != nil {
		return err
	}
	if err := p.Join(); err != nil {
		return err
	}
	code, _ := p.ExitCode()
	say("main: %s exited with code %d", p.Name, code)

	say("main: what a forgotten guard does: re-running this program with %s=1, which makes it start a process before mp.Main:", NoGuardEnv)
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), NoGuardEnv+"=1")
	out, err := cmd.CombinedOutput()
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fmt.Printf("    | %s\n", sc.Text())
	}
	if err != nil {
		return fmt.Errorf("the program without a guard: %w", err)
	}
	return nil
}

// guardChild is MainGuard's child.
func guardChild() {
	say("child: in a child, mp.Main runs the target (this line) and exits: the rest of main never runs here")
}

// withoutGuard is a program whose main forgot mp.Main: it starts a process
// at once. Its child runs the same code again, and is refused.
func withoutGuard() {
	say("no guard: starting a process before mp.Main (this line runs in every process)")
	p := mp.NewProcess(guardChild)
	if err := p.Start(); err != nil {
		say("no guard: Start refused: %v", err)
		return
	}
	say("no guard: started %s, pid %d", p.Name, p.PID())
	err := p.Join()
	say("no guard: Join: %v", err)
	say("no guard: errors.Is(err, mp.ErrMainGuard) = %v", errors.Is(err, mp.ErrMainGuard))
}
