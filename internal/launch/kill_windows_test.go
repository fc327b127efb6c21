package launch_test

import "github.com/go-mp/mp/internal/launch"

func kill(c *launch.Child) error { return c.Terminate(launch.KillCode) }
