package mp

import (
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"github.com/go-mp/mp/internal/bootstrap"
)

// quietAll is SetQuiet's setting.
var quietAll atomic.Bool

// SetQuiet sets whether the children this process starts from now on keep
// quiet about a failing target: by default each prints, on its own
// standard error, what Python's child prints (a "Process NAME:" line, then
// the panic value and stack, or the error the target returned), so that a
// program that never looks at Join's error does not hide a crash. Join's
// error carries the same either way. The children inherit the setting for
// their own children. See also Process.Quiet.
func SetQuiet(quiet bool) { quietAll.Store(quiet) }

// printFailure writes to w what made a child's target fail, as Python's
// child does before it exits: a line naming the process, then the panic
// and the stack of the panicking goroutine (as a Go program that dies of
// a panic prints them), or the error the target returned, or why the
// target could not run. Nothing for a target that succeeded.
func printFailure(w io.Writer, name string, rep *bootstrap.Report) {
	var b strings.Builder
	switch {
	case rep.Panic != "":
		fmt.Fprintf(&b, "panic: %s\n\n%s", rep.Panic, rep.Stack)
	case rep.Err != "":
		fmt.Fprintf(&b, "error: %s\n", rep.Err)
	default:
		return
	}
	text := b.String()
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	_, _ = fmt.Fprintf(w, "Process %s:\n%s", name, text)
}
