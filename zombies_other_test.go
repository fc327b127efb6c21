//go:build !linux && !windows

package mp_test

import (
	"os"
	"testing"

	"github.com/shirou/gopsutil/v4/process"
)

// zombies lists this process's children that have exited and not been
// reaped.
func zombies(t *testing.T) []int {
	t.Helper()
	self, err := process.NewProcess(int32(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	children, _ := self.Children() // an error here means none
	var out []int
	for _, c := range children {
		if st, err := c.Status(); err == nil && len(st) > 0 && st[0] == process.Zombie {
			out = append(out, int(c.Pid))
		}
	}
	return out
}
