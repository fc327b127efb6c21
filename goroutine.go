package mp

import (
	"bytes"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/petermattis/goid"
)

// goroutineID returns the runtime's ID of the calling goroutine: what an
// RLock's holder is. github.com/petermattis/goid reads it from the
// runtime's goroutine structure in a few nanoseconds; the first call checks
// that against the ID the runtime prints in a stack trace (5 µs a call),
// and if a future Go moved the field, every call uses the stack trace.
func goroutineID() int64 {
	if goidReliable() {
		return goid.Get()
	}
	return stackGoroutineID()
}

var goidReliable = sync.OnceValue(func() bool {
	return goid.Get() == stackGoroutineID() && stackGoroutineID() > 0
})

// stackGoroutineID reads the ID from "goroutine 123 [running]:".
func stackGoroutineID() int64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b, ok := bytes.CutPrefix(b, []byte("goroutine "))
	if !ok {
		return -1
	}
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return -1
	}
	return id
}

// goroutineOwner holds the ID of the goroutine that holds an RLock in this
// process; 0 when none does.
type goroutineOwner struct{ id atomic.Int64 }

func (o *goroutineOwner) get() int64  { return o.id.Load() }
func (o *goroutineOwner) set(g int64) { o.id.Store(g) }
