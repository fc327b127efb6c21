package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// HeaderSize is the size of a frame's header: the payload's length, 4
// bytes big-endian.
const HeaderSize = 4

// ReadChunk bounds what is allocated before the bytes arrive: a lying
// length costs at most this much, plus what the peer really sends.
const ReadChunk = 1 << 20

// AppendFrame appends a frame holding p to dst.
func AppendFrame(dst, p []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(p)))
	return append(dst, p...)
}

// PutHeader writes the header of a frame of n bytes into hdr.
func PutHeader(hdr *[HeaderSize]byte, n int) { binary.BigEndian.PutUint32(hdr[:], uint32(n)) }

// Length returns the payload length a header announces.
func Length(hdr []byte) uint32 { return binary.BigEndian.Uint32(hdr) }

// ReadFrame reads one frame's payload from r. It returns io.EOF if r ends
// before the first byte, an error wrapping ErrMessageTooLarge for a frame
// over max bytes, and one wrapping ErrBadMessage for a truncated frame.
func ReadFrame(r io.Reader, hdr *[HeaderSize]byte, max int) ([]byte, error) {
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: truncated frame header", ErrBadMessage)
		}
		return nil, err
	}
	return ReadPayload(r, Length(hdr[:]), max)
}

// ReadPayload reads a payload of n bytes, allocating as the bytes come,
// ReadChunk at a time at first and then doubling.
func ReadPayload(r io.Reader, n uint32, max int) ([]byte, error) {
	if uint64(n) > uint64(max) {
		return nil, fmt.Errorf("%w: a frame of %d bytes exceeds the maximum of %d", ErrMessageTooLarge, n, max)
	}
	buf := make([]byte, min(int(n), ReadChunk))
	for got := 0; ; {
		k, err := io.ReadFull(r, buf[got:])
		got += k
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("%w: truncated frame: %d of %d bytes", ErrBadMessage, got, n)
			}
			return nil, err
		}
		if got == int(n) {
			return buf, nil
		}
		buf = append(buf, make([]byte, min(int(n)-got, len(buf)))...)
	}
}

// ValidFrames reports whether b is a whole number of frames.
func ValidFrames(b []byte) bool {
	for len(b) > 0 {
		if len(b) < HeaderSize {
			return false
		}
		n := Length(b)
		if uint64(n) > uint64(len(b)-HeaderSize) {
			return false
		}
		b = b[HeaderSize+int(n):]
	}
	return true
}
