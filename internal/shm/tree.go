package shm

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
)

// TreeEnv is the environment variable that tells a child the root of its
// tree: the root's robust.ID in hexadecimal.
const TreeEnv = "MP_SHM_TREE"

// cleanupEnv makes the program a cleanup process: it holds the path of the
// registry to watch.
const cleanupEnv = "MP_SHM_CLEANUP"

// NewTree returns the Tree whose root is the process root, a robust.ID
// (robust.Self() in the root, RootFromEnv in a child: process identity is
// internal/robust's, which this package leaves to its callers). command
// returns a command that runs this program again, whose main calls
// CleanupMain before it does anything else; nil if this program cannot be
// run again so, in which case Create fails.
func NewTree(root uint64, command func() (*exec.Cmd, error)) *Tree {
	return &Tree{root: root, command: command}
}

// Root returns the tree's root.
func (t *Tree) Root() uint64 { return t.root }

// Env returns TreeEnv=ROOT, for a child's environment.
func (t *Tree) Env() string { return TreeEnv + "=" + strconv.FormatUint(t.root, 16) }

// RootFromEnv returns the root that TreeEnv names, and removes it from the
// environment, so that the programs that this process runs (other than its
// own children, given it again) are not taken for the tree's; ok is false
// if it names none.
func RootFromEnv() (root uint64, ok bool) {
	v, ok := os.LookupEnv(TreeEnv)
	if !ok {
		return 0, false
	}
	os.Unsetenv(TreeEnv)
	n, err := strconv.ParseUint(v, 16, 64)
	if err != nil || n == 0 {
		return 0, false
	}
	return n, true
}

// CleanupMain runs the cleanup process, and exits, if this process was
// started as one; otherwise it returns at once. A program calls it first
// thing in main (mp.Main does), before anything that a cleanup process
// must not do again. alive reports whether the process that a robust.ID
// names still runs (robust.Alive).
func CleanupMain(alive func(id uint64) bool) {
	dir, ok := os.LookupEnv(cleanupEnv)
	if !ok {
		return
	}
	if err := runCleanup(dir, alive); err != nil {
		fmt.Fprintf(os.Stderr, "mp: shared memory cleanup: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}
