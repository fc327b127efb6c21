//go:build race

package robust

import "sync/atomic"

// raceClock tells the race detector what the shared words already ensure.
// The detector does not follow atomic operations on memory outside Go's
// heap (a mapped segment), so an unlock in shared memory does not, to it,
// happen before the next lock, and data that a lock protects would look
// raced. A release is an atomic add on a word of this process's heap, an
// acquire a load of it: the detector orders those. Without -race the clock
// is empty and costs nothing.
type raceClock struct{ w atomic.Uint64 }

func (c *raceClock) release() { c.w.Add(1) }
func (c *raceClock) acquire() { c.w.Load() }
