package main

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

//go:embed compare.py
var compareScript []byte

// python is a python3 process running compare.py, which answers one
// request at a time.
type python struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	out     *bufio.Scanner
	dir     string
	version string
}

// callTimeout bounds one request: a sample that takes longer has hung.
const callTimeout = 5 * time.Minute

// startPython starts compare.py under python3, or returns nil and a note
// saying why Python's column is empty.
func startPython() (*python, string) {
	exe, err := exec.LookPath("python3")
	if err != nil {
		return nil, "python3 is not on PATH: Python's column is empty."
	}
	version, err := exec.Command(exe, "--version").Output()
	if err != nil {
		return nil, fmt.Sprintf("python3 --version failed (%v): Python's column is empty.", err)
	}
	dir, err := os.MkdirTemp("", "mp-compare-")
	if err != nil {
		return nil, err.Error()
	}
	script := filepath.Join(dir, "compare.py")
	if err := os.WriteFile(script, compareScript, 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err.Error()
	}
	p := &python{dir: dir, version: strings.TrimSpace(strings.TrimPrefix(string(version), "Python "))}
	p.cmd = exec.Command(exe, script)
	p.cmd.Stderr = os.Stderr
	if p.in, err = p.cmd.StdinPipe(); err == nil {
		var out io.Reader
		if out, err = p.cmd.StdoutPipe(); err == nil {
			p.out = bufio.NewScanner(out)
			err = p.cmd.Start()
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Sprintf("starting python3: %v: Python's column is empty.", err)
	}
	return p, ""
}

// call sends one request and returns the number in its answer.
func (p *python) call(req map[string]any) (float64, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return 0, err
	}
	type answer struct {
		Value *float64 `json:"value"`
		Error string   `json:"error"`
	}
	got := make(chan error, 1)
	var a answer
	go func() {
		if _, err := p.in.Write(append(b, '\n')); err != nil {
			got <- err
			return
		}
		if !p.out.Scan() {
			got <- errors.Join(errors.New("python3 ended"), p.out.Err())
			return
		}
		got <- json.Unmarshal(p.out.Bytes(), &a)
	}()
	select {
	case err = <-got:
	case <-time.After(callTimeout):
		_ = p.cmd.Process.Kill()
		return 0, fmt.Errorf("python3: %s took over %v", req["fig"], callTimeout)
	}
	switch {
	case err != nil:
		return 0, fmt.Errorf("python3: %w", err)
	case a.Error != "":
		return 0, fmt.Errorf("python3: %s", a.Error)
	case a.Value == nil:
		return 0, fmt.Errorf("python3: no value in %s", p.out.Bytes())
	}
	return *a.Value, nil
}

// close ends the Python process and removes its script.
func (p *python) close() {
	p.in.Close()
	done := make(chan struct{})
	go func() {
		_ = p.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
	os.RemoveAll(p.dir)
}
