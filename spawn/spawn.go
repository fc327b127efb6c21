// Package spawn chooses the program that package mp re-executes to start a
// child process, as Python's multiprocessing.spawn does with set_executable
// and get_executable. Most programs never use it: by default a child is
// the running program itself.
//
// # How a child is spawned
//
// Go cannot fork a running runtime, so Process.Start runs the program
// again, with the parent's arguments (os.Args) and, unless Process.Env
// says otherwise, its environment. The child finds a marker in its
// environment naming two channels it inherited, and in mp.Main reads its
// work (target, arguments, carried globals) from the first; it reports on
// the second. The work never travels in argv or the environment, which
// other users of the machine can read.
//
// The program that is run must be the parent's program, or one built from
// the same main package and module versions: the child looks its target up
// by name among the targets it registered, and decodes what the parent
// encoded. A program that does not call mp.Main exits without running the
// target, and the parent's Join reports mp.ErrMainGuard.
package spawn

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

var (
	set      atomic.Pointer[string]
	fromOS   = sync.OnceValues(os.Executable)
	errNoDir = errors.New("is a directory")
)

// SetExecutable sets the program that Process.Start runs for each child,
// like Python's set_executable: a wrapper that sets up the process before
// it runs the program, say, or a copy of the program elsewhere. A relative
// path is taken relative to the working directory at the call, not the
// child's. The path must name an existing file, and the program must be
// the parent's own (see "How a child is spawned"). An empty path restores
// the default, the running program. It affects later calls to Start, and
// is safe to call from any goroutine.
func SetExecutable(path string) error {
	if path == "" {
		set.Store(nil)
		return nil
	}
	abs, err := filepath.Abs(path)
	if err == nil {
		var fi os.FileInfo
		if fi, err = os.Stat(abs); err == nil && fi.IsDir() {
			err = errNoDir
		}
	}
	if err != nil {
		return fmt.Errorf("mp: spawn.SetExecutable(%q): %w", path, err)
	}
	set.Store(&abs)
	return nil
}

// Executable returns the program that Process.Start runs for each child,
// like Python's get_executable: the one set with SetExecutable, or else
// the running program, as os.Executable finds it.
func Executable() (string, error) {
	if p := set.Load(); p != nil {
		return *p, nil
	}
	exe, err := fromOS()
	if err != nil {
		return "", fmt.Errorf("mp: cannot find the running program: %w", err)
	}
	return exe, nil
}
