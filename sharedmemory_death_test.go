package mp_test

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/internal/robust"
)

// The lifetime of shared memory names: a tree of processes that is killed
// with SIGKILL, every process of it, leaves no name behind; a program that
// is not of the tree (another Go program, Python) opens a block by name
// and leaves it be.

func init() {
	helpers["shmtree"] = shmTreeMain
	helpers["shmattach"] = shmAttachMain
	ipcTargets = append(ipcTargets, shmTreeChild)
}

// shmBound is how long a tree's names may outlive it.
const shmBound = 5 * time.Second

// shmTreeMain is a program whose tree the test kills: it creates a
// block, starts a child under each start method that opens it and creates
// one of its own, has children wait for work under Forkserver, prints
// "tree ROOT", "name NAME" for each block, "pid PID" for each process that
// works, "waiting PID" for each that waits, then "ready", and waits to be
// killed.
func shmTreeMain() {
	fail := func(err error) {
		fmt.Println("error", err)
		os.Exit(1)
	}
	m, err := mp.NewSharedMemory("", 4096)
	if err != nil {
		fail(err)
	}
	v, err := mp.NewValue(int64(0))
	if err != nil {
		fail(err)
	}
	q, err := mp.NewQueue(0)
	if err != nil {
		fail(err)
	}
	fmt.Printf("tree %016x\nname %s\npid %d\n", robust.Self(), m.Name(), os.Getpid())
	for _, method := range mp.AllStartMethods() {
		p := mp.NewProcess(shmTreeChild, m.Name(), v, q)
		p.StartMethod = method
		if err := p.Start(); err != nil {
			fail(err)
		}
	}
	for range mp.AllStartMethods() {
		var line string
		if err := q.Get(&line); err != nil {
			fail(err)
		}
		fmt.Println(line)
	}
	// Two wait for work (started after the block was made and opened,
	// as the process's own, which has both open).
	if err := mp.SetForkserverPreload(2); err != nil {
		fail(err)
	}
	waiting, _ := mp.ForkserverIdle()
	for _, pid := range waiting {
		fmt.Println("waiting", pid)
	}
	fmt.Println("ready")
	time.Sleep(time.Hour)
}

func shmTreeChild(name string, v *mp.Value[int64], q *mp.Queue) error {
	m, err := mp.OpenSharedMemory(name)
	if err != nil {
		return err
	}
	m.Buf()[0]++
	own, err := mp.NewSharedMemory("", 100)
	if err != nil {
		return err
	}
	v.Add(1)
	if err := q.Put(fmt.Sprintf("pid %d\nname %s", os.Getpid(), own.Name())); err != nil {
		return err
	}
	time.Sleep(time.Hour)
	return nil
}

// shmAttachMain is a program of its own that opens the block named by
// MP_TEST_SHM, prints its first five bytes and its size, writes "howdy",
// and ends.
func shmAttachMain() {
	m, err := mp.OpenSharedMemory(os.Getenv("MP_TEST_SHM"))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println(string(m.Buf()[:5]), m.Size())
	copy(m.Buf(), "howdy")
	_ = m.Close()
}

// gone waits until no block has the name, at most shmBound.
func shmGone(t *testing.T, names ...string) {
	t.Helper()
	end := time.Now().Add(shmBound)
	for _, name := range names {
		for {
			m, err := mp.OpenSharedMemory(name)
			if errors.Is(err, fs.ErrNotExist) {
				break
			}
			require.NoError(t, err)
			m.Close()
			if time.Now().After(end) {
				t.Fatalf("%s is still there %v after its tree was killed", name, shmBound)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestSharedMemoryTreeKilled kills every process of a tree that works
// with SIGKILL (TerminateProcess on Windows): no name is left after
// shmBound, and the tree's registry is gone. The children that wait for
// work under Forkserver are not killed: they hold nothing of the tree's
// shared memory (on Linux, no descriptor of a segment or of the registry),
// and do not keep a name alive whatever becomes of them.
func TestSharedMemoryTreeKilled(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), helperEnv+"=shmtree")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	var pids, waiting []int
	t.Cleanup(func() {
		for _, pid := range append(pids, waiting...) {
			if p, err := os.FindProcess(pid); err == nil {
				_ = p.Kill()
			}
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	var names []string
	var tree string
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	timeout := time.After(time.Minute)
read:
	for {
		select {
		case line, ok := <-lines:
			require.True(t, ok, "the tree ended before it was ready")
			key, val, _ := strings.Cut(line, " ")
			switch key {
			case "tree":
				tree = val
			case "name":
				names = append(names, val)
			case "pid":
				pid, err := strconv.Atoi(val)
				require.NoError(t, err)
				pids = append(pids, pid)
			case "waiting":
				pid, err := strconv.Atoi(val)
				require.NoError(t, err)
				waiting = append(waiting, pid)
			case "ready":
				break read
			default:
				t.Fatal(line)
			}
		case <-timeout:
			t.Fatal("the tree did not get ready")
		}
	}
	n := len(mp.AllStartMethods())
	require.Len(t, names, 1+n)
	require.Len(t, pids, 1+n)
	require.Len(t, waiting, 2)
	// Each child opened the root's block.
	m, err := mp.OpenSharedMemory(names[0])
	require.NoError(t, err)
	assert.Equal(t, byte(n), m.Buf()[0])
	require.NoError(t, m.Close())
	if runtime.GOOS == "linux" {
		require.NotEmpty(t, shmFiles(t, pids[0], names), "the root, which has a block open")
		for _, pid := range waiting {
			assert.Empty(t, shmFiles(t, pid, names), "a child waiting for work, pid %d", pid)
		}
	}

	// Every process, children first so that none dies of its parent's
	// death.
	for i := len(pids) - 1; i >= 0; i-- {
		p, err := os.FindProcess(pids[i])
		require.NoError(t, err)
		require.NoError(t, p.Kill())
	}
	_ = cmd.Wait()
	shmGone(t, names...)
	if runtime.GOOS == "linux" {
		reg := filepath.Join("/dev/shm", ".mp-tree-"+tree)
		for end := time.Now().Add(shmBound); ; time.Sleep(20 * time.Millisecond) {
			if _, err := os.Lstat(reg); errors.Is(err, fs.ErrNotExist) {
				break
			}
			require.False(t, time.Now().After(end), "%s is still there", reg)
		}
	}
}

// shmFiles returns the files that the process pid has open that are
// segments named names, or a tree's registry (Linux).
func shmFiles(t *testing.T, pid int, names []string) []string {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	fds, err := os.ReadDir(dir)
	require.NoError(t, err)
	var got []string
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join(dir, fd.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if strings.Contains(target, "/.mp-tree-") || slices.ContainsFunc(names, func(name string) bool {
			return strings.HasPrefix(target, "/dev/shm/"+name)
		}) {
			got = append(got, fd.Name()+" -> "+target)
		}
	}
	return got
}

// TestSharedMemoryUnrelatedProgram: a program that is not of this tree
// opens a block by name, writes to it, and ends, without removing its
// name.
func TestSharedMemoryUnrelatedProgram(t *testing.T) {
	t.Parallel()
	sms := newShared(t, "", 5000)
	copy(sms.Buf(), "hello")
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), helperEnv+"=shmattach", "MP_TEST_SHM="+sms.Name())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	want := "hello 5000\n"
	if runtime.GOOS == "windows" {
		want = "hello 8192\n" // the pages that hold it
	}
	assert.Equal(t, want, string(out))
	assert.Equal(t, "howdy", string(sms.Buf()[:5]))
	again, err := mp.OpenSharedMemory(sms.Name())
	require.NoError(t, err, "the other program left the name")
	require.NoError(t, again.Close())
}

// TestSharedMemoryPython: Python's shared_memory opens a block that mp
// created, and mp opens one that Python created.
func TestSharedMemoryPython(t *testing.T) {
	t.Parallel()
	py, err := exec.LookPath("python3")
	if err != nil || runtime.GOOS != "linux" {
		t.Skip("needs python3 on Linux: elsewhere mp's names are not Python's (macOS, FreeBSD), or there is no Python (the Wine lane)")
	}
	sms := newShared(t, "", 64)
	copy(sms.Buf(), "hello")
	// Python before 3.13 registers a block it attaches to with its
	// resource tracker, which would remove the name when it ends
	// (gh-82300): unregister.
	const attach = `import sys
from multiprocessing import shared_memory, resource_tracker
s = shared_memory.SharedMemory(sys.argv[1])
resource_tracker.unregister(s._name, "shared_memory")
print(bytes(s.buf[:5]).decode(), s.size)
s.buf[:5] = b"HOWDY"
s.close()
`
	out, err := exec.Command(py, "-c", attach, sms.Name()).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "hello 64\n", string(out))
	assert.Equal(t, "HOWDY", string(sms.Buf()[:5]))

	const create = `import sys
from multiprocessing import shared_memory, resource_tracker
s = shared_memory.SharedMemory(create=True, size=100)
resource_tracker.unregister(s._name, "shared_memory")
s.buf[:6] = b"python"
print(s.name)
s.close()
`
	out, err = exec.Command(py, "-c", create).Output()
	require.NoError(t, err)
	name := strings.TrimSpace(string(out))
	m, err := mp.OpenSharedMemory(name)
	require.NoError(t, err)
	assert.Equal(t, "python", string(m.Buf()[:6]))
	assert.Equal(t, 100, m.Size())
	require.NoError(t, m.Unlink())
	require.NoError(t, m.Close())
}
