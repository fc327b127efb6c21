//go:build unix

package mp

import (
	"os"
	"os/signal"
	"syscall"
	"time"
)

// watchTerminate turns SIGTERM, Terminate's signal, into a graceful stop.
func watchTerminate(l *lifeline) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM)
	go func() {
		for range ch {
			l.terminate()
		}
	}()
}

// dieTerminated ends the child as Terminate would have: by SIGTERM, so
// that its parent sees -15.
func dieTerminated() {
	signal.Reset(syscall.SIGTERM)
	_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	time.Sleep(5 * time.Second) // the signal ends the process first
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
}
