package wire

import (
	"encoding/binary"
	"fmt"
)

// Writer appends the binary encodings that Reader reads: uvarints,
// varints, and bytes and strings prefixed by their length as a uvarint.
// The zero Writer is ready to use; B is what it has written.
type Writer struct{ B []byte }

// Byte appends one byte.
func (w *Writer) Byte(c byte) { w.B = append(w.B, c) }

// Uint appends v as a uvarint.
func (w *Writer) Uint(v uint64) { w.B = binary.AppendUvarint(w.B, v) }

// Int appends v as a varint.
func (w *Writer) Int(v int64) { w.B = binary.AppendVarint(w.B, v) }

// Bool appends v as a uvarint, 1 or 0.
func (w *Writer) Bool(v bool) {
	if v {
		w.Uint(1)
	} else {
		w.Uint(0)
	}
}

// Bytes appends len(p) and p.
func (w *Writer) Bytes(p []byte) {
	w.Uint(uint64(len(p)))
	w.B = append(w.B, p...)
}

// String appends len(s) and s.
func (w *Writer) String(s string) {
	w.Uint(uint64(len(s)))
	w.B = append(w.B, s...)
}

// Raw appends p as it is.
func (w *Writer) Raw(p []byte) { w.B = append(w.B, p...) }

// Reader reads what a Writer wrote. The first malformed field sets Err,
// which wraps ErrBadMessage (or Bad, if set), and every later read
// returns a zero value: check Err, or End, once at the end.
//
// A length (Count, Bytes, String) is checked against the bytes left
// before anything is allocated for it, so a Reader allocates at most what
// it is given.
type Reader struct {
	B   []byte // what is left
	Err error
	Bad error // the sentinel errors wrap; nil means ErrBadMessage
}

// NewReader returns a Reader of b.
func NewReader(b []byte) *Reader { return &Reader{B: b} }

// Fail records a malformed field, what, unless an error is recorded.
func (r *Reader) Fail(what string) {
	if r.Err == nil {
		bad := r.Bad
		if bad == nil {
			bad = ErrBadMessage
		}
		r.Err = fmt.Errorf("%w: bad %s", bad, what)
	}
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if r.Err != nil || len(r.B) == 0 {
		r.Fail("byte")
		return 0
	}
	c := r.B[0]
	r.B = r.B[1:]
	return c
}

// Uint reads a uvarint.
func (r *Reader) Uint() uint64 {
	if r.Err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.B)
	if n <= 0 {
		r.Fail("integer")
		return 0
	}
	r.B = r.B[n:]
	return v
}

// Int reads a varint.
func (r *Reader) Int() int64 {
	if r.Err != nil {
		return 0
	}
	v, n := binary.Varint(r.B)
	if n <= 0 {
		r.Fail("integer")
		return 0
	}
	r.B = r.B[n:]
	return v
}

// Bool reads what Writer.Bool wrote.
func (r *Reader) Bool() bool { return r.Uint() != 0 }

// Count reads a count of elements that each take at least min bytes: it
// must fit in what is left.
func (r *Reader) Count(min int) int {
	n := r.Uint()
	if r.Err == nil && n > uint64(len(r.B)/max(min, 1)) {
		r.Fail("length")
		return 0
	}
	return int(n)
}

// Bytes reads a length and that many bytes. The result shares the
// Reader's buffer.
func (r *Reader) Bytes() []byte {
	n := r.Count(1)
	if r.Err != nil {
		return nil
	}
	p := r.B[:n:n]
	r.B = r.B[n:]
	return p
}

// Raw reads n bytes, shared with the Reader's buffer.
func (r *Reader) Raw(n int) []byte {
	if r.Err == nil && (n < 0 || n > len(r.B)) {
		r.Fail("length")
	}
	if r.Err != nil {
		return nil
	}
	p := r.B[:n:n]
	r.B = r.B[n:]
	return p
}

// String reads a length and that many bytes, as a string.
func (r *Reader) String() string { return string(r.Bytes()) }

// End returns Err, or an error if bytes are left over.
func (r *Reader) End() error {
	if r.Err == nil && len(r.B) != 0 {
		r.Fail("trailing bytes")
	}
	return r.Err
}
