// Package connection is Python's multiprocessing.connection: a [Listener]
// that accepts authenticated connections, [Client] to connect to one, and
// [Wait] for several connections and processes at once.
//
// Connections are [mp.Conn]s over Unix domain sockets or loopback TCP.
// Each side proves that it knows the key (by default the process tree's
// mp.CurrentProcess().AuthKey, which children inherit) with an HMAC
// challenge (SHA-256 unless the peer asks for another) before a single
// message is decoded. Unlike a Conn from mp.Pipe, a connection stays in
// the process that made it.
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
// # Talking to Python
//
// The handshake and the framing are Python's, byte for byte: a Python
// program's multiprocessing.connection.Client(address, authkey=key)
// connects to a [Listener] with the same key, and a [Client] or [Dialer]
// connects to Python's Listener(address, authkey=key); send_bytes and
// recv_bytes on the Python side meet SendBytes and RecvBytes on this one,
// in messages of any size, empty ones included. A system can so be ported
// one program at a time. (Send and Recv carry CBOR, which Python reads
// with a CBOR library, not pickle.) Python 3.12 and later negotiate the
// digest; Python 3.11 and older know only HMAC-MD5, which a Listener or
// Dialer accepts only with LegacyMD5 set. A TCP address is "host:port"
// here and (host, port) in Python; a Unix socket is a path on both sides.
// Python authenticates only when given a key: a Python Listener or Client
// without authkey cannot talk to this package, which always does.
// The tests run real Python programs on both sides (python_test.go).
//
// # Platform notes
//
// On Windows the default family is TCP on 127.0.0.1: Go has no named
// pipes, and Wine no AF_UNIX.
package connection
