package robust

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strconv"
)

// errNoProcess: no process has the PID.
var errNoProcess = errors.New("mp: no such process")

// identify reads /proc/PID/stat: field 22 is the start time in clock ticks
// since boot, field 3 the state, where Z (zombie) and X (dead) mean the
// process has exited (proc(5)).
func identify(pid int) (id ID, running bool, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, false, errNoProcess
		}
		return 0, false, err
	}
	return parseStat(pid, b)
}

// parseStat parses a /proc/PID/stat line. The command name, field 2, is in
// parentheses and may hold spaces and parentheses itself, so the fields are
// counted from the last ')'.
func parseStat(pid int, b []byte) (ID, bool, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false, errors.New("mp: malformed /proc stat")
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state), so field 22 (starttime) is f[19].
	if len(f) < 20 || len(f[0]) != 1 {
		return 0, false, errors.New("mp: malformed /proc stat")
	}
	start, err := strconv.ParseUint(string(f[19]), 10, 64)
	if err != nil {
		return 0, false, errors.New("mp: malformed /proc stat")
	}
	running := f[0][0] != 'Z' && f[0][0] != 'X' && f[0][0] != 'x'
	return makeID(pid, start), running, nil
}
