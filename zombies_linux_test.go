package mp_test

import (
	"bytes"
	"os"
	"strconv"
	"testing"
)

// zombies lists this process's children that have exited and not been
// reaped, from /proc (not gopsutil: see status_linux.go).
func zombies(t *testing.T) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	me := strconv.Itoa(os.Getpid())
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone already
		}
		// pid (comm) state ppid ...
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(b[i+1:])
		if len(f) >= 2 && string(f[0]) == "Z" && string(f[1]) == me {
			out = append(out, pid)
		}
	}
	return out
}
