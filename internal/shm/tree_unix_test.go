//go:build unix

package shm_test

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp/internal/robust"
	"github.com/go-mp/mp/internal/shm"
	"github.com/go-mp/mp/internal/testchild"
)

// The cleanup of a tree's names is tested with trees of helper processes
// that the tests kill with SIGKILL: a "root" helper is the root of a tree
// of its own, and starts "member" and "creator" helpers as its children,
// which it hands the tree (shm.TreeEnv). Each helper prints a line
// "ROLE PID" once it is ready, and the tests read them.

// bound is how long a tree's names may outlive it: the cleanup process
// looks for the root every 200 ms.
const bound = 5 * time.Second

func init() {
	helpers["root"] = treeRoot
	helpers["member"] = treeMember
	helpers["creator"] = treeCreator
	helpers["churn"] = treeChurn
}

func helperTree() *shm.Tree {
	root, ok := shm.RootFromEnv()
	if !ok {
		root = uint64(robust.Self())
	}
	return shm.NewTree(root, rerun)
}

// startHelper starts a helper as a child of this helper, in its tree.
func startHelper(tree *shm.Tree, name string, args ...string) (*os.Process, error) {
	cmd, err := testchild.Command(name, nil, args...)
	if err != nil {
		return nil, err
	}
	cmd.Env = append(cmd.Env, tree.Env())
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return cmd.Process, nil
}

func sleepForever() error {
	time.Sleep(time.Hour)
	return nil
}

// treeRoot: args[0] is the mode, the rest names.
//
//	hold     create the names, start a member that opens them, sleep
//	persist  create the names, make the first persist, exit
//	late     start a creator, wait for its end, open the names, sleep
//	churn    start two churn helpers and churn too: args[1] is a prefix
func treeRoot(_ *os.File, args []string) error {
	tree := helperTree()
	mode, names := args[0], args[1:]
	fmt.Printf("id %x\n", tree.Root())
	switch mode {
	case "hold", "persist":
		for _, n := range names {
			s, err := shm.Create(n, 4096, tree)
			if err != nil {
				return err
			}
			s.Bytes()[0] = 1
		}
		if mode == "persist" {
			if err := shm.Persist(names[0]); err != nil {
				return err
			}
			fmt.Println("root", os.Getpid())
			return nil
		}
		if _, err := startHelper(tree, "member", names...); err != nil {
			return err
		}
	case "late":
		p, err := startHelper(tree, "creator", names...)
		if err != nil {
			return err
		}
		if st, err := p.Wait(); err != nil || !st.Success() {
			return fmt.Errorf("creator: %v %v", st, err)
		}
		// An observation window, not synchronisation: a cleanup that
		// went by the creator's end would have removed the names by
		// now.
		time.Sleep(3 * 200 * time.Millisecond)
		for _, n := range names {
			s, err := shm.Open(n, tree)
			if err != nil {
				return err
			}
			if s.Bytes()[0] != 1 {
				return fmt.Errorf("%s: not the creator's segment", n)
			}
		}
	case "churn":
		for range 2 {
			if _, err := startHelper(tree, "churn", names[0]); err != nil {
				return err
			}
		}
		fmt.Println("root", os.Getpid())
		return treeChurn(nil, names)
	}
	fmt.Println("root", os.Getpid())
	return sleepForever()
}

func treeMember(_ *os.File, names []string) error {
	tree := helperTree()
	for _, n := range names {
		if _, err := shm.Open(n, tree); err != nil {
			return err
		}
	}
	fmt.Println("member", os.Getpid())
	return sleepForever()
}

func treeCreator(_ *os.File, names []string) error {
	tree := helperTree()
	for _, n := range names {
		s, err := shm.Create(n, 4096, tree)
		if err != nil {
			return err
		}
		s.Bytes()[0] = 1
	}
	return nil
}

// treeChurn creates, opens, closes and unlinks segments named
// PREFIX-PID-N until it is killed.
func treeChurn(_ *os.File, args []string) error {
	tree := helperTree()
	fmt.Println("churn", os.Getpid())
	var live []string
	for i := 0; ; i++ {
		n := fmt.Sprintf("%s-%d-%d", args[0], os.Getpid(), i)
		s, err := shm.Create(n, 1+rand.IntN(1<<16), tree)
		if err != nil {
			return err
		}
		s.Bytes()[0] = 1
		_ = s.Close()
		live = append(live, n)
		if len(live) > 8 {
			k := rand.IntN(len(live))
			if o, err := shm.Open(live[k], tree); err == nil {
				_ = o.Close()
			}
			if err := shm.Unlink(live[k], tree); err != nil {
				return err
			}
			live = append(live[:k], live[k+1:]...)
		}
	}
}

// helperRun is a started root helper and what it said.
type helperRun struct {
	t     *testing.T
	cmd   interface{ Wait() error }
	lines chan string
	id    string         // the root's robust.ID in hex
	pids  map[string]int // by role; churn helpers as churn0, churn1, ...
}

// runRoot starts a root helper and reads its lines until it has heard
// from every role in want ("churn" three times for churn mode).
func runRoot(t *testing.T, want []string, args ...string) *helperRun {
	t.Helper()
	cmd, err := testchild.Command("root", nil, args...)
	require.NoError(t, err)
	cmd.Stdout = nil
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	h := &helperRun{t: t, cmd: cmd, lines: make(chan string, 64), pids: map[string]int{}}
	t.Cleanup(func() {
		for _, pid := range h.pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	go func() {
		defer close(h.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	deadline := time.After(30 * time.Second)
	for pending := append([]string(nil), want...); len(pending) > 0; {
		select {
		case line, ok := <-h.lines:
			require.True(t, ok, "the helpers ended before saying %v", pending)
			role, val, _ := strings.Cut(line, " ")
			if role == "id" {
				h.id = val
				continue
			}
			pid, err := strconv.Atoi(val)
			require.NoError(t, err, line)
			for i, p := range pending {
				if p == role {
					pending = append(pending[:i], pending[i+1:]...)
					break
				}
			}
			if role == "churn" {
				role += strconv.Itoa(len(h.pids))
			}
			h.pids[role] = pid
		case <-deadline:
			t.Fatalf("no word from %v", pending)
		}
	}
	return h
}

func (h *helperRun) kill(role string) {
	h.t.Helper()
	require.NoError(h.t, syscall.Kill(h.pids[role], syscall.SIGKILL))
}

// registry returns the path of the helper tree's registry.
func (h *helperRun) registry() string {
	return filepath.Join(shmDir(h.t), fmt.Sprintf(".mp-tree-%016s", h.id))
}

func shmDir(t *testing.T) string {
	if runtime.GOOS == "linux" {
		return "/dev/shm"
	}
	return filepath.Join("/tmp", "mp-shm-"+strconv.Itoa(os.Getuid()))
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// gone waits until none of paths exists, at most bound.
func gone(t *testing.T, paths ...string) {
	t.Helper()
	end := time.Now().Add(bound)
	for {
		var left []string
		for _, p := range paths {
			if exists(p) {
				left = append(left, p)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("still there %v after the tree ended: %v", bound, left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func names(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = shm.NewName()
	}
	return out
}

func paths(t *testing.T, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = filepath.Join(shmDir(t), n)
	}
	return out
}

// TestTreeKilled: a tree whose every process is killed with SIGKILL
// leaves nothing, but only once the last process that opened the
// segments is dead.
func TestTreeKilled(t *testing.T) {
	t.Parallel()
	ns := names(3)
	h := runRoot(t, []string{"root", "member"}, append([]string{"hold"}, ns...)...)
	for _, p := range paths(t, ns) {
		assert.True(t, exists(p), p)
	}
	h.kill("root")
	// An observation window: the cleanup sees the root dead within
	// 200 ms, and must then wait for the member.
	time.Sleep(time.Second)
	for _, p := range paths(t, ns) {
		assert.True(t, exists(p), "%s removed while a member of the tree has it open", p)
	}
	h.kill("member")
	gone(t, append(paths(t, ns), h.registry())...)
}

// TestTreeLateOpen: a segment whose creator has ended is not removed
// while its tree lives; its root opens it then.
func TestTreeLateOpen(t *testing.T) {
	t.Parallel()
	ns := names(2)
	h := runRoot(t, []string{"root"}, append([]string{"late"}, ns...)...)
	for _, p := range paths(t, ns) {
		assert.True(t, exists(p), p)
	}
	h.kill("root")
	gone(t, append(paths(t, ns), h.registry())...)
}

// TestTreePersist: a persistent segment outlives its tree; the others
// do not.
func TestTreePersist(t *testing.T) {
	t.Parallel()
	ns := names(2)
	h := runRoot(t, []string{"root"}, append([]string{"persist"}, ns...)...)
	require.NoError(t, h.cmd.Wait())
	ps := paths(t, ns)
	gone(t, ps[1], h.registry())
	assert.True(t, exists(ps[0]), "the persistent one")
	require.NoError(t, shm.Unlink(ns[0], nil))
}

// TestTreeSweep: what a killed cleanup process left is removed by the next
// one that any tree starts.
func TestTreeSweep(t *testing.T) {
	t.Parallel()
	dir := shmDir(t)
	// A registry of a dead process (the ID of this process with another
	// start time), holding a segment, with no cleanup process.
	dead := uint64(os.Getpid())<<32 | uint64(uint32(robust.Self())+1)
	require.False(t, alive(dead))
	reg := filepath.Join(dir, fmt.Sprintf(".mp-tree-%016x", dead))
	require.NoError(t, os.MkdirAll(filepath.Join(reg, "names"), 0o700))
	name := shm.NewName()
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
	require.NoError(t, err)
	f.Close()
	require.NoError(t, os.Link(filepath.Join(dir, name), filepath.Join(reg, "names", name)))
	// A file of the same name in a dead registry that is not the segment:
	// not to be touched.
	other := shm.NewName()
	f, err = os.OpenFile(filepath.Join(dir, other), os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
	require.NoError(t, err)
	f.Close()
	defer os.Remove(filepath.Join(dir, other))
	f, err = os.Create(filepath.Join(reg, "names", other))
	require.NoError(t, err)
	f.Close()

	// A new tree starts a new cleanup process.
	h := runRoot(t, []string{"root", "member"}, "hold", shm.NewName())
	gone(t, filepath.Join(dir, name), reg)
	assert.True(t, exists(filepath.Join(dir, other)), "a file that is not the registered segment")
	h.kill("root")
	h.kill("member")
	gone(t, h.registry())
}

// TestTreeKillStorm kills a tree of three processes that create, open and
// unlink segments, at a random instant, again and again: nothing of
// theirs is left. MP_SOAK=1 runs 100 rounds.
func TestTreeKillStorm(t *testing.T) {
	t.Parallel()
	rounds := 5
	if os.Getenv("MP_SOAK") != "" {
		rounds = 100
	}
	dir := shmDir(t)
	for round := range rounds {
		prefix := fmt.Sprintf("mpstorm%d_%d", os.Getpid(), round)
		h := runRoot(t, []string{"root", "churn", "churn", "churn"}, "churn", prefix)
		time.Sleep(time.Duration(rand.IntN(300)) * time.Millisecond) // a random instant
		for role := range h.pids {
			h.kill(role)
		}
		gone(t, h.registry())
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, e := range entries {
			assert.False(t, strings.HasPrefix(e.Name(), prefix), "round %d left %s", round, e.Name())
		}
	}
}
