package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// A frame is Python's multiprocessing.connection framing, byte for byte:
// the payload's length as a 4-byte big-endian signed integer, then the
// payload. A payload over 2 GiB - 1 bytes, which 4 signed bytes cannot
// announce, has -1 (ff ff ff ff) there, then its length as 8 bytes
// big-endian, then the payload: a Go and a Python process can exchange
// messages of any size over a socket.

// HeaderSize is the size of a frame's header for a payload of up to
// MaxShort bytes; a longer one has LongHeaderSize bytes.
const HeaderSize = 4

// LongHeaderSize is the size of the header of a payload over MaxShort
// bytes: -1, then an 8-byte length.
const LongHeaderSize = HeaderSize + 8

// MaxShort is the longest payload a 4-byte header announces.
const MaxShort = math.MaxInt32

// ReadChunk bounds what is allocated before the bytes arrive: a lying
// length costs at most this much, plus what the peer really sends.
const ReadChunk = 1 << 20

// AppendHeader appends the header of a frame of n bytes to dst.
func AppendHeader(dst []byte, n int) []byte {
	if uint64(n) > MaxShort {
		dst = binary.BigEndian.AppendUint32(dst, math.MaxUint32) // -1
		return binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return binary.BigEndian.AppendUint32(dst, uint32(n))
}

// AppendFrame appends a frame holding p to dst.
func AppendFrame(dst, p []byte) []byte {
	return append(AppendHeader(dst, len(p)), p...)
}

// PutHeader writes the 4-byte header of a frame of n bytes, at most
// MaxShort, into hdr; AppendHeader writes any.
func PutHeader(hdr *[HeaderSize]byte, n int) { binary.BigEndian.PutUint32(hdr[:], uint32(n)) }

// Length returns the payload length a 4-byte header announces. A header
// of a long payload (see ReadHeader) announces more than MaxShort, which
// no caller of Length accepts.
func Length(hdr []byte) uint32 { return binary.BigEndian.Uint32(hdr) }

// ReadHeader reads a frame's header from r and returns the payload's
// length. It returns io.EOF if r ends before the first byte, and an error
// wrapping ErrBadMessage for a truncated header or a negative length
// other than -1 (which Python never sends). hdr is scratch space.
func ReadHeader(r io.Reader, hdr *[HeaderSize]byte) (uint64, error) {
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, fmt.Errorf("%w: truncated frame header", ErrBadMessage)
		}
		return 0, err
	}
	n := Length(hdr[:])
	switch {
	case n <= MaxShort:
		return uint64(n), nil
	case n != math.MaxUint32:
		return 0, fmt.Errorf("%w: a frame header announcing %d bytes", ErrBadMessage, int32(n))
	}
	var long [LongHeaderSize - HeaderSize]byte // only for payloads over 2 GiB
	if _, err := io.ReadFull(r, long[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, fmt.Errorf("%w: truncated frame header", ErrBadMessage)
		}
		return 0, err
	}
	return binary.BigEndian.Uint64(long[:]), nil
}

// ReadFrame reads one frame's payload from r. It returns io.EOF if r ends
// before the first byte, an error wrapping ErrMessageTooLarge for a frame
// over max bytes, and one wrapping ErrBadMessage for a truncated frame.
func ReadFrame(r io.Reader, hdr *[HeaderSize]byte, max int) ([]byte, error) {
	n, err := ReadHeader(r, hdr)
	if err != nil {
		return nil, err
	}
	return ReadPayload(r, n, max)
}

// ReadPayload reads a payload of n bytes, allocating as the bytes come,
// ReadChunk at a time at first and then doubling.
func ReadPayload[L uint32 | uint64](r io.Reader, n L, max int) ([]byte, error) {
	if uint64(n) > uint64(max) {
		return nil, fmt.Errorf("%w: a frame of %d bytes exceeds the maximum of %d", ErrMessageTooLarge, n, max)
	}
	size := int(n)
	buf := make([]byte, min(size, ReadChunk))
	for got := 0; ; {
		k, err := io.ReadFull(r, buf[got:])
		got += k
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("%w: truncated frame: %d of %d bytes", ErrBadMessage, got, n)
			}
			return nil, err
		}
		if got == size {
			return buf, nil
		}
		buf = append(buf, make([]byte, min(size-got, len(buf)))...)
	}
}

// ValidFrames reports whether b is a whole number of frames.
func ValidFrames(b []byte) bool {
	for len(b) > 0 {
		if len(b) < HeaderSize {
			return false
		}
		n, h := uint64(Length(b)), HeaderSize
		if n > MaxShort {
			if n != math.MaxUint32 || len(b) < LongHeaderSize {
				return false
			}
			n, h = binary.BigEndian.Uint64(b[HeaderSize:]), LongHeaderSize
		}
		if n > uint64(len(b)-h) {
			return false
		}
		b = b[h+int(n):]
	}
	return true
}
