package mp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxMessage is the largest message a Conn or Queue accepts unless
// told otherwise (SetMaxMessage): 64 MiB. A frame announcing more is
// refused before anything is allocated for it.
const DefaultMaxMessage = 64 << 20

// A frame is a 4-byte big-endian payload length and the payload.
const frameHeader = 4

// readChunk bounds what is allocated before the bytes arrive: a lying
// length costs at most this much, plus what the peer really sends.
const readChunk = 1 << 20

// readFrame reads one frame's payload from r. It returns io.EOF if r ends
// before the first byte, an error wrapping ErrMessageTooLarge for a frame
// over max bytes, and one wrapping ErrBadMessage for a truncated frame.
func readFrame(r io.Reader, hdr *[frameHeader]byte, max int) ([]byte, error) {
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: truncated frame header", ErrBadMessage)
		}
		return nil, err
	}
	return readPayload(r, binary.BigEndian.Uint32(hdr[:]), max)
}

// readPayload reads a payload of n bytes, allocating as the bytes come.
func readPayload(r io.Reader, n uint32, max int) ([]byte, error) {
	if uint64(n) > uint64(max) {
		return nil, fmt.Errorf("%w: a frame of %d bytes exceeds the maximum of %d", ErrMessageTooLarge, n, max)
	}
	buf := make([]byte, min(int(n), readChunk))
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

// appendFrame appends a frame holding p to dst.
func appendFrame(dst, p []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(p)))
	return append(dst, p...)
}
