//go:build unix

package shm

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The registry of a tree: see Tree.
const (
	treePrefix  = reservedPrefix + "tree-"
	namesDir    = "names"   // hard links to the tree's segments
	membersFile = "members" // flocked shared by the tree's users of segments
	cleanerFile = "cleaner" // flocked exclusive by the cleanup process
)

// A Tree is a tree of processes: a root, which no process of the tree
// started, and its descendants, to which the root's identity is handed as
// they start (TreeEnv). The named segments that its processes create are
// registered with the tree, and their names are removed once the tree has
// ended, whatever ended it (SIGKILL of every process included), unless a
// program asked for one to persist (Persist). A name is never removed while
// a process of the tree is alive that created or opened it, nor while the
// root lives.
//
// # How (Unix)
//
// A tree's registry is a directory beside the segments (/dev/shm on Linux),
// .mp-tree-ROOT, private to the user: ROOT is the root's identity, which
// no later process can share (robust.ID). It holds a hard link to each
// segment that the tree created, named as the segment, so that the cleanup
// removes a name only if it is still the segment the tree made; a segment
// is made there and linked to its name only once it is registered and
// sized, so that a process killed at any instant leaves nothing that the
// cleanup does not find. Each process of the tree that creates or opens a
// segment holds a shared flock(2) on the registry's members file from then
// until it ends, when the system lets go of it whatever killed it.
//
// The cleanup process is the program run again (a Tree's command), started
// by the first process of the tree that creates a segment, in a session of
// its own, so that the signals that end the tree (Ctrl-C, or a kill of its
// process group) do not reach it, with its standard files on /dev/null. It
// makes the registry, before any process of the tree puts anything there,
// and holds an exclusive flock on the registry's cleaner file, by which the
// processes of the tree see that it runs. It waits for the root to die,
// then for the members' lock, then removes the names that still lead to
// the tree's segments and the registry, and exits. If it was killed
// itself, the next cleanup process that any tree starts removes what it
// left.
//
// Windows keeps a named file mapping as long as a process has it open and
// no longer: a tree leaves nothing behind, and needs no cleanup process.
type Tree struct {
	root    uint64
	command func() (*exec.Cmd, error)

	mu     sync.Mutex
	member *os.File // the members file, locked shared, once this process is a member
}

// pollInterval is how often a cleanup process looks whether its tree's
// root is alive.
const pollInterval = 200 * time.Millisecond

// readyTimeout bounds how long Create waits for a cleanup process to say
// that it runs.
const readyTimeout = 30 * time.Second

// registry returns the path of t's registry in dir.
func (t *Tree) registry(dir string) string {
	return filepath.Join(dir, fmt.Sprintf("%s%016x", treePrefix, t.root))
}

// prepare makes t's registry, makes this process a member and makes sure
// that a cleanup process watches the tree; it returns the registry's path.
func (t *Tree) prepare(dir string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	reg := t.registry(dir)
	// The cleanup process makes the registry, so that none is left for
	// want of one, whatever instant this process is killed at.
	if err := t.ensureCleaner(reg); err != nil {
		return "", err
	}
	if err := mkdirPrivate(reg); err != nil {
		return "", err
	}
	if err := mkdirPrivate(filepath.Join(reg, namesDir)); err != nil {
		return "", err
	}
	if err := t.becomeMember(reg); err != nil {
		return "", err
	}
	return reg, nil
}

// join makes this process a member of the tree if the tree has a registry
// in dir: only then can the segment being opened be one of the tree's.
func (t *Tree) join(dir string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.member != nil {
		return nil
	}
	reg := t.registry(dir)
	if _, err := os.Lstat(reg); notExist(err) {
		return nil
	}
	if err := mkdirPrivate(reg); err != nil {
		return err
	}
	return t.becomeMember(reg)
}

// becomeMember takes the members' shared lock, for good. t.mu is held.
func (t *Tree) becomeMember(reg string) error {
	if t.member != nil {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(reg, membersFile), os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	if err := flock(f, unix.LOCK_SH); err != nil {
		f.Close()
		return err
	}
	t.member = f
	return nil
}

// forget removes t's registry entry for the segment fi that was called
// name, once its name is gone.
func (t *Tree) forget(dir, name string, fi os.FileInfo) {
	entry := filepath.Join(t.registry(dir), namesDir, name)
	if efi, err := os.Lstat(entry); err == nil && os.SameFile(fi, efi) {
		_ = os.Remove(entry)
	}
}

// ensureCleaner starts a cleanup process for the registry, which makes
// the registry if it is not there, unless one holds its lock. t.mu is
// held.
func (t *Tree) ensureCleaner(reg string) error {
	f, err := os.OpenFile(filepath.Join(reg, cleanerFile), os.O_RDWR|syscall.O_NOFOLLOW, 0)
	if notExist(err) {
		return t.startCleaner(reg)
	}
	if err != nil {
		return err
	}
	err = flock(f, unix.LOCK_EX|unix.LOCK_NB)
	f.Close() // lets go of the lock, if it was taken
	switch {
	case errors.Is(err, unix.EWOULDBLOCK):
		return nil // a cleanup process runs
	case err != nil:
		return err
	}
	return t.startCleaner(reg)
}

// startCleaner starts the cleanup process and waits until it says that it
// holds the registry's cleaner lock ('R'), or that another one does ('O').
func (t *Tree) startCleaner(reg string) error {
	if t.command == nil {
		return errors.New("this program cannot start the cleanup process that removes the segment's name " +
			"when the program ends: call mp.Main first thing in main")
	}
	cmd, err := t.command()
	if err != nil {
		return fmt.Errorf("starting the cleanup process: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, cleanupEnv+"="+reg)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil // /dev/null
	cmd.ExtraFiles = []*os.File{w}                    // fd 3
	cmd.Dir = "/"
	// A session of its own: no signal meant for the tree reaches it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return fmt.Errorf("starting the cleanup process: %w", err)
	}
	_ = r.SetReadDeadline(time.Now().Add(readyTimeout))
	var b [1]byte
	_, rerr := io.ReadFull(r, b[:])
	switch {
	case rerr == nil && b[0] == 'R':
		// It runs until the tree has ended; it is no longer ours to
		// wait for.
		return cmd.Process.Release()
	case rerr == nil && b[0] == 'O':
		return cmd.Wait() // it exits: another one runs
	case errors.Is(rerr, os.ErrDeadlineExceeded):
		_ = cmd.Process.Kill()
	}
	werr := cmd.Wait()
	return fmt.Errorf("the cleanup process failed to start (%v)", werr)
}

// runCleanup is the cleanup process of the registry reg: see Tree.
func runCleanup(reg string, alive func(uint64) bool) error {
	// Ctrl-C and hang-ups are for the tree, whose end this process is
	// here to see through.
	signal.Ignore(syscall.SIGINT, syscall.SIGHUP, syscall.SIGPIPE)
	ready := os.NewFile(3, "ready")
	root, ok := parseRegistry(filepath.Base(reg))
	if !ok {
		return fmt.Errorf("%s is not a tree's registry", reg)
	}
	if err := mkdirPrivate(reg); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(reg, cleanerFile), os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := flock(lock, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		if errors.Is(err, unix.EWOULDBLOCK) {
			_, _ = ready.Write([]byte{'O'})
			return nil
		}
		return err
	}
	if _, err := ready.Write([]byte{'R'}); err != nil {
		return err
	}
	ready.Close()
	dir := filepath.Dir(reg)
	sweep(dir, reg, alive)
	for alive(root) {
		time.Sleep(pollInterval)
	}
	// The root is dead, so its descendants are dying (no child outlives
	// its parent); wait for those that used segments.
	members, err := os.OpenFile(filepath.Join(reg, membersFile), os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	defer members.Close()
	if err := flock(members, unix.LOCK_EX); err != nil {
		return err
	}
	return clean(dir, reg)
}

// sweep cleans the registries in dir, other than own, of trees that have
// ended with no cleanup process to clean them (it was killed).
func sweep(dir, own string, alive func(uint64) bool) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		reg := filepath.Join(dir, e.Name())
		root, ok := parseRegistry(e.Name())
		if !ok || reg == own || alive(root) {
			continue
		}
		func() {
			for _, name := range []string{cleanerFile, membersFile} {
				f, err := os.OpenFile(filepath.Join(reg, name), os.O_RDWR|syscall.O_NOFOLLOW, 0)
				if err != nil && !notExist(err) {
					return
				}
				if f != nil {
					defer f.Close()
					if flock(f, unix.LOCK_EX|unix.LOCK_NB) != nil {
						return // a cleanup process runs, or a member lives
					}
				}
			}
			_ = clean(dir, reg)
		}()
	}
}

// clean removes the names of the registry's segments that still lead to
// them, then the registry.
func clean(dir, reg string) error {
	entries, err := os.ReadDir(filepath.Join(reg, namesDir))
	if err != nil && !notExist(err) {
		return err
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if sameFile(filepath.Join(reg, namesDir, e.Name()), path) {
			if err := os.Remove(path); err != nil && !notExist(err) {
				return err
			}
		}
	}
	return os.RemoveAll(reg)
}

// parseRegistry returns the root that the registry named name belongs to.
func parseRegistry(name string) (uint64, bool) {
	hex, ok := strings.CutPrefix(name, treePrefix)
	if !ok || len(hex) != 16 {
		return 0, false
	}
	n, err := strconv.ParseUint(hex, 16, 64)
	return n, err == nil && n != 0
}

// flock locks f, retrying when a signal interrupts the wait.
func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			if err != nil {
				return os.NewSyscallError("flock", err)
			}
			return nil
		}
	}
}
