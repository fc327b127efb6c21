// Package testchild lets the tests of internal packages run their own test
// binary again as a helper process that inherits one file (a shared memory
// segment), as os/exec's tests do: TestMain calls Main first, and a test
// calls Start.
package testchild

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	envHelper = "MP_TESTCHILD"
	envFile   = "MP_TESTCHILD_FILE"
	envArgs   = "MP_TESTCHILD_ARGS"
)

// Main runs the helper named in the environment, if any, and exits with
// its result: 0 for nil, 1 (after printing it) for an error. It returns in
// a process that is not a helper.
func Main(helpers map[string]func(f *os.File, args []string) error) {
	name, ok := os.LookupEnv(envHelper)
	if !ok {
		return
	}
	h := helpers[name]
	if h == nil {
		fmt.Fprintf(os.Stderr, "testchild: no helper %q\n", name)
		os.Exit(2)
	}
	var f *os.File
	if v := os.Getenv(envFile); v != "" {
		for _, s := range strings.Split(v, ",") {
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				fmt.Fprintf(os.Stderr, "testchild: bad file %q\n", v)
				os.Exit(2)
			}
			files = append(files, inherit(uintptr(n)))
		}
		f = files[0]
	}
	var args []string
	if v := os.Getenv(envArgs); v != "" {
		args = strings.Split(v, "\x1f")
	}
	if err := h(f, args); err != nil {
		fmt.Fprintf(os.Stderr, "testchild %s: %v\n", name, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// files are the files a helper was given; the first is also its argument.
var files []*os.File

// Files returns the files this helper was given (see StartFiles).
func Files() []*os.File { return files }

// Start starts the test binary as the named helper, passing it f (which may
// be nil) and args. The child is killed, if it still runs, and waited for
// when the test ends.
func Start(t testing.TB, helper string, f *os.File, args ...string) *exec.Cmd {
	t.Helper()
	var fs []*os.File
	if f != nil {
		fs = append(fs, f)
	}
	return StartFiles(t, helper, fs, args...)
}

// StartFiles is Start passing several files: the helper gets the first as
// its argument, and all of them from Files.
func StartFiles(t testing.TB, helper string, fs []*os.File, args ...string) *exec.Cmd {
	t.Helper()
	cmd, err := Command(helper, fs, args...)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// Command returns the command that StartFiles starts, for a helper to
// start another (the caller starts and waits for it). Its output goes to
// this process's.
func Command(helper string, fs []*os.File, args ...string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), envHelper+"="+helper, envArgs+"="+strings.Join(args, "\x1f"))
	if len(fs) > 0 {
		hs := pass(cmd, fs)
		v := make([]string, len(hs))
		for i, h := range hs {
			v[i] = strconv.FormatUint(uint64(h), 10)
		}
		cmd.Env = append(cmd.Env, envFile+"="+strings.Join(v, ","))
	}
	return cmd, nil
}

// Forever blocks until the process is killed. (A bare select {} would end
// a process that has nothing else to wait for with the runtime's deadlock
// error, on Windows.)
func Forever() {
	for {
		time.Sleep(time.Hour)
	}
}
