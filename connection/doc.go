// Package connection is Python's multiprocessing.connection: a [Listener]
// that accepts authenticated connections, [Client] to connect to one, and
// [Wait] for several connections and processes at once.
//
// Connections are [mp.Conn]s over Unix domain sockets or loopback TCP.
// Each side proves that it knows the key (by default the process tree's
// mp.CurrentProcess().AuthKey, which children inherit) with an
// HMAC-SHA256 challenge before a single message is decoded. Unlike a Conn
// from mp.Pipe, a connection stays in the process that made it.
//
// This package is apart from package mp because it needs package net,
// which links the system's resolver through cgo on most systems: a program
// that imports only mp stays statically linked, and its children start
// without the dynamic loader.
//
// # Listener
//
// The Listener authenticates connections concurrently, at most
// MaxHandshakes at a time, each within HandshakeTimeout; Accept returns
// the next connection that passed. A peer that connects and says nothing,
// or sends a byte a second, does not delay another for long: when a new
// connection finds every handshake place taken, the oldest peer that has
// been silent for a second (or else one under way for 5 seconds) is
// dropped.
//
// # Platform notes
//
// On Windows the default family is TCP on 127.0.0.1: Go has no named
// pipes, and Wine no AF_UNIX.
package connection
