package launch

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// Std names new standard files for a child started ahead of time, which
// takes them with its work (see [Child.Redirect]): for each i set in Set,
// Stdin (0), Stdout (1) or Stderr (2), as Spec's fields of those names
// (nil: the null device).
type Std struct {
	Set            [3]bool
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// redirected is what Redirect left for Wait: the goroutines that copy a
// Reader or Writer that is not an *os.File, and the parent's ends of
// their pipes.
type redirected struct {
	pipes []*os.File // the parent's ends, closed once the copying is over
	done  chan error // one value per goroutine
	n     int        // how many goroutines
}

// Redirect prepares the standard files that s names for c, a child started
// ahead of time that has not yet been sent its work, and returns the files
// to pass to it, in the order 0, 1, 2 of those set: the child makes them
// its standard files before its target runs. The caller passes them, then
// calls release, which closes the parent's copies of the pipes made here.
//
// It does what os/exec does for a child it starts: an *os.File is passed
// as it is, in blocking mode (File.Fd), and the same Writer for Stdout and
// Stderr gets one pipe; a Reader or Writer of another type is fed by a
// goroutine through a pipe, and Wait waits for the goroutine, at most
// Spec.WaitDelay once the child has exited, then closes the pipe. A child
// that has been reaped gets nothing: Redirect returns os.ErrProcessDone.
func (c *Child) Redirect(s Std) (files []*os.File, release func(), err error) {
	var own []*os.File // the child's ends of our pipes, and null devices
	r := &redirected{done: make(chan error, 3)}
	var goroutines []func() error
	release = func() {
		for _, f := range own {
			f.Close()
		}
	}
	fail := func(err error) ([]*os.File, func(), error) {
		release()
		for _, p := range r.pipes {
			p.Close()
		}
		return nil, nil, err
	}
	var outFile *os.File // the file given for Stdout, which Stderr may share
	for i, set := range s.Set {
		if !set {
			continue
		}
		var f *os.File
		switch i {
		case 0:
			if s.Stdin == nil {
				f, err = os.Open(os.DevNull)
				own = append(own, f)
				break
			}
			if file, ok := s.Stdin.(*os.File); ok {
				f = file
				break
			}
			var pw *os.File
			if f, pw, err = os.Pipe(); err != nil {
				break
			}
			own, r.pipes = append(own, f), append(r.pipes, pw)
			in := s.Stdin
			goroutines = append(goroutines, func() error {
				_, err := io.Copy(pw, in)
				if errors.Is(err, syscall.EPIPE) || errors.Is(err, fs.ErrClosed) {
					err = nil // the child stopped reading, or exited
				}
				if err1 := pw.Close(); err == nil {
					err = err1
				}
				return err
			})
		default:
			w := s.Stdout
			if i == 2 {
				w = s.Stderr
				if w != nil && s.Set[1] && outFile != nil && interfaceEqual(w, s.Stdout) {
					f = outFile
					break
				}
			}
			f, goroutines, err = c.writer(w, &own, r, goroutines)
			if i == 1 {
				outFile = f
			}
		}
		if err != nil {
			return fail(err)
		}
		f.Fd() // blocking mode, as os/exec passes it
		files = append(files, f)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reaped {
		return fail(os.ErrProcessDone)
	}
	for _, g := range goroutines {
		go func() { r.done <- g() }()
	}
	r.n = len(goroutines)
	if r.n > 0 || len(r.pipes) > 0 {
		c.std = r
	}
	return files, release, nil
}

// writer returns the file a child writes to for w, as os/exec makes it.
func (c *Child) writer(w io.Writer, own *[]*os.File, r *redirected, gs []func() error) (*os.File, []func() error, error) {
	if w == nil {
		f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err == nil {
			*own = append(*own, f)
		}
		return f, gs, err
	}
	if f, ok := w.(*os.File); ok {
		return f, gs, nil
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, gs, err
	}
	*own, r.pipes = append(*own, pw), append(r.pipes, pr)
	return pw, append(gs, func() error {
		_, err := io.Copy(w, pr)
		pr.Close()
		return err
	}), nil
}

// interfaceEqual is os/exec's: a and b are the same value, without
// panicking on incomparable types.
func interfaceEqual(a, b any) bool {
	defer func() { _ = recover() }()
	return a == b
}

// await waits, once the child has exited, for the goroutines Redirect
// started, at most delay (zero: for ever); then it closes the pipes, which
// ends the goroutines that copy output, and waits for them.
func (r *redirected) await(delay time.Duration) {
	if r == nil {
		return
	}
	var timeout <-chan time.Time
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		timeout = t.C
	}
	for left := r.n; left > 0; {
		select {
		case <-r.done:
			left--
			continue
		case <-timeout:
		}
		for _, p := range r.pipes {
			p.Close()
		}
		for ; left > 0; left-- {
			<-r.done
		}
	}
	for _, p := range r.pipes {
		p.Close()
	}
}
