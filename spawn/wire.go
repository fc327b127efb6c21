package spawn

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// Boot and Report travel in a small hand-written binary form rather than
// gob: a child decodes one Boot on its start-up path, where gob's
// reflection-driven type compilation would cost more than the rest of the
// handshake together. Every field is a uvarint, or a uvarint length and
// that many bytes; decoding checks every length against what is left.

type writer struct{ b []byte }

func (w *writer) uint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *writer) int(v int64)   { w.b = binary.AppendVarint(w.b, v) }
func (w *writer) bytes(p []byte) {
	w.uint(uint64(len(p)))
	w.b = append(w.b, p...)
}
func (w *writer) string(s string) {
	w.uint(uint64(len(s)))
	w.b = append(w.b, s...)
}
func (w *writer) bool(v bool) {
	if v {
		w.uint(1)
	} else {
		w.uint(0)
	}
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: bad %s", ErrBadFrame, what)
	}
}

func (r *reader) uint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("integer")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) int() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("integer")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a length, which must fit in what is left when each element
// takes at least min bytes.
func (r *reader) count(min int) int {
	n := r.uint()
	if r.err == nil && n > uint64(len(r.b)/min) {
		r.fail("length")
		return 0
	}
	return int(n)
}

func (r *reader) bytes() []byte {
	n := r.count(1)
	if r.err != nil {
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) string() string { return string(r.bytes()) }

func (r *reader) bool() bool { return r.uint() != 0 }

func (r *reader) end() error {
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes")
	}
	return r.err
}

// MarshalBinary encodes b.
func (b *Boot) MarshalBinary() ([]byte, error) {
	w := &writer{b: make([]byte, 0, 128+len(b.Args))}
	w.string(b.Nonce)
	w.string(b.Target)
	w.bytes(b.Args)
	w.string(b.Name)
	w.uint(uint64(len(b.Identity)))
	for _, id := range b.Identity {
		w.int(int64(id))
	}
	w.bool(b.Daemon)
	w.string(b.Method)
	w.int(int64(b.ParentPID))
	w.string(b.ParentName)
	w.bytes(b.AuthKey)
	names := make([]string, 0, len(b.Globals))
	for n := range b.Globals {
		names = append(names, n)
	}
	sort.Strings(names)
	w.uint(uint64(len(names)))
	for _, n := range names {
		w.string(n)
		w.bytes(b.Globals[n])
	}
	w.uint(uint64(len(b.Files)))
	for _, f := range b.Files {
		w.uint(f)
	}
	return w.b, nil
}

// UnmarshalBinary decodes what MarshalBinary encoded; malformed input gives
// an error wrapping ErrBadFrame.
func (b *Boot) UnmarshalBinary(p []byte) error {
	r := &reader{b: p}
	b.Nonce = r.string()
	b.Target = r.string()
	b.Args = r.bytes()
	b.Name = r.string()
	if n := r.count(1); n > 0 {
		b.Identity = make([]int, n)
		for i := range b.Identity {
			b.Identity[i] = int(r.int())
		}
	}
	b.Daemon = r.bool()
	b.Method = r.string()
	b.ParentPID = int(r.int())
	b.ParentName = r.string()
	b.AuthKey = r.bytes()
	if n := r.count(2); n > 0 {
		b.Globals = make(map[string][]byte, n)
		for range n {
			name := r.string()
			b.Globals[name] = r.bytes()
		}
	}
	if n := r.count(1); n > 0 {
		b.Files = make([]uint64, n)
		for i := range b.Files {
			b.Files[i] = r.uint()
		}
	}
	return r.end()
}

// MarshalBinary encodes r.
func (r *Report) MarshalBinary() ([]byte, error) {
	size := 64 + len(r.Err) + len(r.ErrType) + len(r.Panic) + len(r.Stack)
	for _, sp := range r.Spills {
		size += 20 + len(sp.Queue) + len(sp.Frames)
	}
	w := &writer{b: make([]byte, 0, size)}
	w.int(int64(r.Code))
	w.string(r.Err)
	w.string(r.ErrType)
	w.string(r.Panic)
	w.string(r.Stack)
	w.bool(r.Guard)
	w.bool(r.Boot)
	w.uint(uint64(len(r.Spills)))
	for _, sp := range r.Spills {
		w.bytes(sp.Queue)
		w.bytes(sp.Frames)
	}
	w.uint(uint64(r.Lost))
	return w.b, nil
}

// UnmarshalBinary decodes what MarshalBinary encoded; malformed input gives
// an error wrapping ErrBadFrame.
func (r *Report) UnmarshalBinary(p []byte) error {
	rd := &reader{b: p}
	r.Code = int(rd.int())
	r.Err = rd.string()
	r.ErrType = rd.string()
	r.Panic = rd.string()
	r.Stack = rd.string()
	r.Guard = rd.bool()
	r.Boot = rd.bool()
	if n := rd.count(2); n > 0 {
		r.Spills = make([]Spill, n)
		for i := range r.Spills {
			r.Spills[i].Queue = rd.bytes()
			r.Spills[i].Frames = rd.bytes()
		}
	}
	r.Lost = int(min(rd.uint(), 1<<31))
	return rd.end()
}
