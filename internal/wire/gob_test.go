package wire

// The codec mp used before: encoding/gob with one encoder per type, each
// message carrying the type's description as a prefix and a decoder kept
// per prefix. Kept here, in a test file, as the baseline the benchmarks
// measure the CBOR codec against.

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"
)

var errGob = errors.New("gob codec")

const (
	tagStream = 'G'
	tagCached = 'C'
)

// maxCachedTypes bounds the decoders kept per process, so that a peer
// sending endless new prefixes cannot grow memory without limit.
const maxCachedTypes = 256

type typeEncoder struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	enc    *gob.Encoder
	prefix []byte
	whole  bool // values of this type need a whole stream
}

var encoders sync.Map // reflect.Type -> *typeEncoder

// encodeValue appends the value message for v to dst.
func gobEncode(dst []byte, v any) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: cannot encode %T: %v", errGob, v, r)
		}
	}()
	if v == nil {
		return nil, fmt.Errorf("%w: cannot send a nil value", errGob)
	}
	t := reflect.TypeOf(v)
	e, ok := encoders.Load(t)
	if !ok {
		e, _ = encoders.LoadOrStore(t, &typeEncoder{})
	}
	te := e.(*typeEncoder)
	te.mu.Lock()
	defer te.mu.Unlock()
	if !te.whole {
		first := te.enc == nil
		if first {
			te.enc = gob.NewEncoder(&te.buf)
		}
		te.buf.Reset()
		if err := te.enc.Encode(v); err != nil {
			te.enc = nil // its stream is in an unknown state
			return nil, fmt.Errorf("%w: cannot encode %T: %w", errGob, v, err)
		}
		b := te.buf.Bytes()
		last, n := lastMessage(b)
		switch {
		case first:
			te.prefix = bytes.Clone(b[:last])
		case n != 1:
			// New type descriptions mid-stream: a receiver that did not
			// see them could not decode later values.
			te.whole = true
		}
		if !te.whole {
			dst = append(dst, tagCached)
			dst = binary.AppendUvarint(dst, uint64(len(te.prefix)))
			dst = append(dst, te.prefix...)
			return append(dst, b[last:]...), nil
		}
	}
	var buf bytes.Buffer
	buf.WriteByte(tagStream)
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return nil, fmt.Errorf("%w: cannot encode %T: %w", errGob, v, err)
	}
	return append(dst, buf.Bytes()...), nil
}

// lastMessage returns where the last gob message of the stream b starts,
// and how many messages b holds. A gob message is a uint length and that
// many bytes; a uint below 128 is one byte, otherwise a byte holding minus
// the count of big-endian bytes that follow.
func lastMessage(b []byte) (last, n int) {
	for i := 0; i < len(b); n++ {
		last = i
		l, w := gobUint(b[i:])
		if w == 0 || l > uint64(len(b)-i-w) {
			return last, -1
		}
		i += w + int(l)
	}
	return last, n
}

func gobUint(b []byte) (v uint64, width int) {
	if len(b) == 0 {
		return 0, 0
	}
	if b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	n := -int(int8(b[0]))
	if n > 8 || n > len(b)-1 {
		return 0, 0
	}
	for _, c := range b[1 : 1+n] {
		v = v<<8 | uint64(c)
	}
	return v, 1 + n
}

// msgReader is an io.ByteReader, so that gob reads from it directly
// rather than through a buffer that would swallow the next message.
type msgReader struct{ b []byte }

func (r *msgReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func (r *msgReader) ReadByte() (byte, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, nil
}

type typeDecoder struct {
	mu     sync.Mutex
	r      msgReader
	dec    *gob.Decoder
	primed bool // the decoder has read the prefix
}

var decoders = struct {
	sync.Mutex
	m map[string]*typeDecoder
}{m: map[string]*typeDecoder{}}

// decodeValue decodes the value message b into v, a non-nil pointer.
// Malformed input gives an error wrapping errGob, never a panic.
func gobDecode(b []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", errGob, r)
		}
	}()
	if len(b) == 0 {
		return fmt.Errorf("%w: empty message", errGob)
	}
	switch b[0] {
	case tagStream:
		r := &msgReader{b: b[1:]}
		if err := gob.NewDecoder(r).Decode(v); err != nil {
			return fmt.Errorf("%w: %v", errGob, err)
		}
		if len(r.b) != 0 {
			return fmt.Errorf("%w: trailing bytes", errGob)
		}
		return nil
	case tagCached:
	default:
		return fmt.Errorf("%w: not a value message (was it sent with SendBytes?)", errGob)
	}
	n, w := binary.Uvarint(b[1:])
	if w <= 0 || n > uint64(len(b)-1-w) {
		return fmt.Errorf("%w: bad prefix length", errGob)
	}
	prefix, value := b[1+w:1+w+int(n)], b[1+w+int(n):]
	decoders.Lock()
	td := decoders.m[string(prefix)]
	if td == nil {
		if len(decoders.m) >= maxCachedTypes {
			clear(decoders.m)
		}
		td = &typeDecoder{}
		td.dec = gob.NewDecoder(&td.r)
		decoders.m[string(prefix)] = td
	}
	decoders.Unlock()
	td.mu.Lock()
	defer td.mu.Unlock()
	if !td.primed {
		td.r.b = append(bytes.Clone(prefix), value...)
		td.primed = true
	} else {
		td.r.b = value
	}
	err = td.dec.Decode(v)
	if err == nil && len(td.r.b) != 0 {
		err = fmt.Errorf("trailing bytes")
	}
	if err != nil {
		// The decoder's state is unknown now: forget it.
		decoders.Lock()
		if decoders.m[string(prefix)] == td {
			delete(decoders.m, string(prefix))
		}
		decoders.Unlock()
		td.r.b = nil
		return fmt.Errorf("%w: %v", errGob, err)
	}
	return nil
}
