package robust

import (
	"encoding/binary"
	"hash/fnv"
	"os"
	"sync"
)

// ID identifies a process in a way that PID reuse cannot fool: the PID in
// the high 32 bits, a hash of the process's start time in the low 32. A
// process that reuses a dead one's PID has another start time, so another
// ID. The zero ID is no process.
type ID uint64

// PID returns the process ID part of id.
func (id ID) PID() int { return int(id >> 32) }

// makeID combines a PID and a start time, in whatever unit and epoch the OS
// reports it (every process of one machine reads it the same way).
func makeID(pid int, start uint64) ID {
	h := fnv.New32a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], start)
	h.Write(b[:])
	return ID(uint64(uint32(pid))<<32 | uint64(h.Sum32()))
}

var self = sync.OnceValue(func() ID {
	pid := os.Getpid()
	id, _, err := identify(pid)
	if err != nil || id == 0 {
		// The start time cannot be read (a /proc that is not mounted, say):
		// the PID alone still tells processes apart while they live, and
		// Alive of such an ID checks only that the PID exists.
		return ID(uint64(uint32(pid)) << 32)
	}
	return id
})

// Self returns the ID of the calling process. It is computed once.
func Self() ID { return self() }

// Alive reports whether the process id names still runs: a process with
// its PID exists, has its start time, and is not a zombie (a child that has
// exited, or been killed, and not yet been reaped is dead). When the OS
// cannot say (no permission to look, too many open files), Alive reports
// true: taking a lock from a live holder would be worse than waiting.
func Alive(id ID) bool {
	if id == 0 {
		return false
	}
	got, running, err := identify(id.PID())
	switch {
	case err == errNoProcess:
		return false
	case err != nil:
		return true
	case !running:
		return false
	}
	// An ID made without a start time (see Self, and identify where no
	// start time is read) matches its PID alone.
	return got == id || uint32(id) == 0 || uint32(got) == 0
}
