// Package launch creates mp's child processes, per OS: the two channels a
// child inherits, the process itself (in a process group of its own, tied
// to its parent's life), and the ways to end it and read how it ended.
// What travels on the channels is package bootstrap's and package
// handles' business.
package launch

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// Spec describes a child to start.
type Spec struct {
	Path string   // the program, an absolute path
	Args []string // its argv, Args[0] included
	Env  []string // its whole environment but the marker; nil: the marker alone
	Dir  string   // its working directory; empty: the parent's

	// Stdin, Stdout and Stderr are as in exec.Cmd (nil: the null device);
	// WaitDelay bounds how long Wait waits, once the child has exited, for
	// the goroutines that copy them (a grandchild may hold the pipes), as
	// exec.Cmd.WaitDelay does (zero: for ever).
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	WaitDelay      time.Duration

	// Marker returns the environment entry ("KEY=VALUE") that tells the
	// child where its channels are: boot and report are the descriptors
	// (Unix) or handle values (Windows) it will find them at.
	Marker func(boot, report uintptr) string

	// NoPdeathsig turns off Linux's PR_SET_PDEATHSIG for this child, so
	// that tests can show the lifeline alone is enough, as it must be on
	// other systems. Elsewhere it does nothing.
	NoPdeathsig bool

	// Graceful starts a child that has a grace period to end in when its
	// parent dies: on Linux it gets no PR_SET_PDEATHSIG; on Windows it
	// holds its own Job Object open, so that the job does not kill it with
	// its parent. Its lifeline ends it.
	Graceful bool
}

// Child is a started child process.
type Child struct {
	// Boot is the parent's end of the boot channel: a Unix-domain socket
	// on Unix (so that descriptors can follow the bootstrap, see package
	// handles), a pipe on Windows. The parent writes the bootstrap on it
	// and then holds it open, writing nothing more: the child's lifeline.
	Boot *os.File
	// Report is the read end of the child's report pipe.
	Report *os.File

	cmd *exec.Cmd

	mu     sync.Mutex
	sys    sysProc     // per-OS state: the launcher thread, or a Job Object
	std    *redirected // standard files given after the start (Redirect)
	reaped bool
}

// Start starts a child as s describes. On success the child runs, and the
// parent holds only its own ends of the channels; on failure nothing is
// left running or open.
func Start(s *Spec) (*Child, error) {
	ch, err := newChannels()
	if err != nil {
		return nil, fmt.Errorf("creating the bootstrap channels: %w", err)
	}
	cmd := &exec.Cmd{Path: s.Path, Args: s.Args, Dir: s.Dir, Stdin: s.Stdin,
		Stdout: s.Stdout, Stderr: s.Stderr, WaitDelay: s.WaitDelay}
	boot, report := prepare(cmd, ch)
	cmd.Env = append(s.Env[:len(s.Env):len(s.Env)], s.Marker(boot, report))
	sys, err := start(cmd, s)
	// The child holds its own copies now; ours would keep the channels
	// open after it died.
	ch.childBoot.Close()
	ch.childReport.Close()
	if err != nil {
		ch.boot.Close()
		ch.report.Close()
		return nil, err
	}
	return &Child{Boot: ch.boot, Report: ch.report, cmd: cmd, sys: sys}, nil
}

// channels are the two ends of the boot channel and of the report pipe.
type channels struct {
	boot, childBoot     *os.File
	report, childReport *os.File
}

// newChannels creates the boot channel (per OS) and the report pipe.
func newChannels() (*channels, error) {
	ch := &channels{}
	var err error
	if ch.boot, ch.childBoot, err = newBoot(); err != nil {
		return nil, err
	}
	if ch.report, ch.childReport, err = os.Pipe(); err != nil {
		ch.boot.Close()
		ch.childBoot.Close()
		return nil, err
	}
	return ch, nil
}

// Pid returns the child's process ID.
func (c *Child) Pid() int { return c.cmd.Process.Pid }

// Wait waits for the child to exit and for its standard I/O to be copied
// (see Spec.WaitDelay, and Redirect), then releases what the parent held
// for it, and returns how it ended. The ProcessState is nil only if the
// wait itself failed. Wait must be called once.
func (c *Child) Wait() (*os.ProcessState, error) {
	err := c.cmd.Wait()
	c.mu.Lock()
	c.reaped = true
	c.sys.release()
	std := c.std
	c.mu.Unlock()
	std.await(c.cmd.WaitDelay)
	return c.cmd.ProcessState, err
}

// Release releases the os.Process once Wait has returned.
func (c *Child) Release() error { return c.cmd.Process.Release() }

// live runs f with the per-OS state of a child that has not been reaped,
// so that no signal goes through a handle Wait has released; once the
// child is reaped it returns os.ErrProcessDone.
func (c *Child) live(f func(*os.Process, *sysProc) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reaped {
		return os.ErrProcessDone
	}
	return f(c.cmd.Process, &c.sys)
}
