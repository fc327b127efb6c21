//go:build unix

package launch_test

import (
	"syscall"

	"github.com/go-mp/mp/internal/launch"
)

func kill(c *launch.Child) error { return c.Signal(syscall.SIGKILL) }
