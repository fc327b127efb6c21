// Package robust owns synchronisation in shared memory that survives the
// death of a process taking part: a process identity that PID reuse cannot
// fool ([ID], [Self], [Alive]), futex-style waits on a shared word ([Wait],
// [Wake], [Seq]), a mutex whose dead holder's lock is taken over ([Mutex],
// with a journal that makes every update made under it all-or-nothing), and
// a table of per-process records ([Table]).
//
// Every structure lives in memory the caller provides (a shared segment,
// see package shm) at an offset it chooses, zeroed when created: the zero
// bytes are an unlocked mutex, a sequence at 0 and an empty table. The
// process-local halves (NewMutex, NewSeq, NewTable) are made in every
// process that maps the memory.
//
// Waits are bounded by [Interval], after which a waiter checks whether the
// process it waits for is alive. A process killed at any instant (SIGKILL,
// TerminateProcess) leaves nothing that blocks the others for longer.
package robust

import (
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"
)

// ErrTimeout is returned by a wait whose deadline passed.
var ErrTimeout = errors.New("mp: timed out")

// ErrTableFull is returned by Claim when every record of a Table belongs to
// a live process.
var ErrTableFull = errors.New("mp: too many processes share this object")

// Uint32At returns the 32-bit word at off in mem, for atomic access. It
// panics if the word is out of bounds or not aligned.
func Uint32At(mem []byte, off int) *atomic.Uint32 {
	check(mem, off, 4)
	return (*atomic.Uint32)(unsafe.Pointer(&mem[off]))
}

// Uint64At returns the 64-bit word at off in mem, for atomic access. It
// panics if the word is out of bounds or not aligned.
func Uint64At(mem []byte, off int) *atomic.Uint64 {
	check(mem, off, 8)
	return (*atomic.Uint64)(unsafe.Pointer(&mem[off]))
}

func check(mem []byte, off, size int) {
	if off < 0 || off > len(mem)-size || (uintptr(unsafe.Pointer(unsafe.SliceData(mem)))+uintptr(off))%uintptr(size) != 0 {
		panic(fmt.Sprintf("mp: robust: %d-byte word at offset %d of %d bytes is out of bounds or unaligned", size, off, len(mem)))
	}
}
