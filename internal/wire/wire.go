// Package wire is the one owner of mp's wire format: frames (a 4-byte
// big-endian length and a payload), the value codec that Conn.Send,
// Queue.Put and Start's arguments use, and a small binary reader and writer
// (uvarints, varints, length-prefixed bytes and strings, with every length
// checked against what is left) for the hand-written encodings of the
// bootstrap and of passable values.
//
// Everything here is meant for input that may be hostile: a decoder never
// panics, never allocates on a length's word alone, and allocates at most
// a small multiple of the bytes it was given.
package wire

import "errors"

// The sentinels the root package re-exports (mp.ErrBadMessage,
// mp.ErrMessageTooLarge): errors of this package wrap them.
var (
	// ErrBadMessage: a message that cannot be decoded, or a value that
	// cannot be encoded.
	ErrBadMessage = errors.New("mp: bad message")
	// ErrMessageTooLarge: a frame over the maximum.
	ErrMessageTooLarge = errors.New("mp: message too large")
)
