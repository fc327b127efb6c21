// Package ready waits for a pipe or socket to have something to read,
// without reading it and without touching its deadlines, so that a wait
// never disturbs a read in progress in another goroutine.
//
// A descriptor is readable when it has bytes, is at end of file, or has an
// error that a read would return. [Now] looks once; [Wait] waits until the
// descriptor is readable or its context is done.
//
// # Platform notes
//
// On Unix, Wait duplicates the descriptor and waits for the duplicate in
// the runtime's poller, with the duplicate's own deadline: a deadline set
// on the original (as os.File and net.Conn waits do) would end a read
// blocked on it in another goroutine, and a wait through the original's
// RawConn.Read would queue behind that read. The duplicate costs a
// descriptor for the length of the wait. A descriptor in blocking mode
// cannot join the poller; for one, Wait calls poll(2) in slices of at most
// 10 ms, so that it notices its context within that.
//
// On Windows, where sockets and pipes have no readiness waits in Go's
// runtime, Wait looks with WSAPoll (a socket) or PeekNamedPipe (a pipe),
// backing off from 50 µs to 5 ms between looks, and wakes at once when its
// context is done.
package ready
