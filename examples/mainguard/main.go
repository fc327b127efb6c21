// Command mainguard shows which code runs in a child process, and what a
// forgotten main guard does.
//
// mp.Main is Go's if __name__ == '__main__'. Everything before it, package
// initialisation (package-level variable initialisers and init functions)
// included, runs again in every child, as Python re-imports the main
// module in a spawned child; in a child mp.Main runs the target and exits,
// so the rest of main runs in the main process only. The initialisers of
// package tutorial print a line when MP_TUTORIAL_SHOW_INIT is set, which
// this program sets for its child: the child prints them, with its own
// PID. (Run it with MP_TUTORIAL_SHOW_INIT=1 to see the parent's too.)
//
// Then it re-runs itself with MP_TUTORIAL_NO_GUARD=1, which makes package
// tutorial's init start a process before mp.Main, as a program that forgot
// the guard would: the child, running that code again, is refused with
// mp.ErrMainGuard, and the parent's Join reports it.
//
//	go run ./examples/mainguard
package main

import (
	"fmt"
	"os"

	"github.com/go-mp/mp"

	"github.com/go-mp/mp/examples/internal/tutorial"
)

// main runs the main-guard step.
func main() {
	mp.Main() // the main guard: in a child process, runs the target and exits
	defer mp.Shutdown()
	if err := tutorial.MainGuard(); err != nil {
		fmt.Fprintln(os.Stderr, "mainguard:", err)
		mp.Shutdown()
		os.Exit(1)
	}
}
