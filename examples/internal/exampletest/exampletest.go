// Package exampletest runs an example program from its test. The test
// binary plays the program, as os/exec's tests make their test binary play
// a helper: TestMain calls Main, and Run starts the test binary again with
// an environment variable that makes it run the program's main. The
// program's own children, started by mp, re-execute the same binary and
// get there too. No Go toolchain is needed when the tests run, so they can
// run wherever the test binary can (under Wine, say).
package exampletest

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// runEnv makes the test binary run the program instead of the tests.
const runEnv = "MP_EXAMPLE_RUN_MAIN"

// Timeout bounds a run of a program: generous, for a loaded machine.
const Timeout = 60 * time.Second

// Main is an example's TestMain. In a binary started by Run it runs the
// program's main and exits; otherwise it runs the tests, checking that
// they leave no goroutine behind.
func Main(m *testing.M, main func()) {
	if os.Getenv(runEnv) == "1" {
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// Result is what a run of the program left behind.
type Result struct {
	Stdout, Stderr string
	Code           int           // exit code
	Elapsed        time.Duration // from start to exit
}

// Run runs the program with args and returns once it has exited. It fails
// the test if the program cannot be run or does not end within Timeout,
// and kills it then.
func Run(t *testing.T, args ...string) Result {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	// A race-enabled binary sleeps a second as it exits (GORACE's
	// atexit_sleep_ms), and the program and every child it starts are one:
	// turn that off, so that tests under -race measure what users see.
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	cmd.Env = append(os.Environ(), runEnv+"=1", "GORACE="+gorace)
	// The program's children die with it; this bounds the wait for their
	// copies of the output pipes regardless.
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	err = cmd.Run()
	r := Result{Stdout: stdout.String(), Stderr: stderr.String(), Elapsed: time.Since(began)}
	t.Logf("%v (%v):\n%s", args, r.Elapsed.Round(time.Millisecond), r.Stdout)
	if r.Stderr != "" {
		t.Logf("stderr:\n%s", r.Stderr)
	}
	if ctx.Err() != nil {
		t.Fatalf("program %v did not end within %v", args, Timeout)
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return r
}

// MustRun is Run, failing the test unless the program exits with code 0.
func MustRun(t *testing.T, args ...string) Result {
	t.Helper()
	r := Run(t, args...)
	if r.Code != 0 {
		t.Fatalf("program %v exited with code %d", args, r.Code)
	}
	return r
}

// UDPUnavailable returns the error that makes UDP sockets unusable on this
// system, or nil. Under Wine 8 every UDP socket Go opens fails: Go's net
// package sets SIO_UDP_CONNRESET on it with WSAIoctl, which Wine answers
// with WSAEOPNOTSUPP ("wsaioctl: winapi error #10045"). Only that error
// counts: any other failure to open a socket is the test's to report.
func UDPUnavailable() error {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err == nil {
		c.Close()
		return nil
	}
	if se := new(os.SyscallError); errors.As(err, &se) && se.Syscall == "wsaioctl" {
		return err
	}
	return nil
}

// NeedUDP skips the test if UDP sockets are unusable here; see
// UDPUnavailable.
func NeedUDP(t *testing.T) {
	t.Helper()
	if err := UDPUnavailable(); err != nil {
		t.Skipf("UDP sockets are unusable here (Wine 8 lacks the SIO_UDP_CONNRESET ioctl Go's net package needs): %v", err)
	}
}
