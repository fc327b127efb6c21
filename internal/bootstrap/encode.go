package bootstrap

import (
	"sort"

	"github.com/go-mp/mp/internal/wire"
)

// Boot and Report travel in a small binary form, written and read with
// package wire's Writer and Reader: a child decodes one Boot on its
// start-up path, where a reflective codec's type compilation would cost
// more than the rest of the handshake together. Every field is a varint,
// a uvarint, or a uvarint length and that many bytes; decoding checks every
// length against what is left, and fails with ErrBadFrame.

func newReader(p []byte) *wire.Reader { return &wire.Reader{B: p, Bad: ErrBadFrame} }

// MarshalBinary encodes b.
func (b *Boot) MarshalBinary() ([]byte, error) {
	return b.appendTo(make([]byte, 0, 128+len(b.Args))), nil
}

// appendTo appends b's encoding to dst.
func (b *Boot) appendTo(dst []byte) []byte {
	w := &wire.Writer{B: dst}
	w.String(b.Nonce)
	w.String(b.Target)
	w.Bytes(b.Args)
	w.String(b.Name)
	w.Uint(uint64(len(b.Identity)))
	for _, id := range b.Identity {
		w.Int(int64(id))
	}
	w.Bool(b.Daemon)
	w.Int(b.Grace)
	w.Bool(b.Quiet)
	w.Bool(b.QuietAll)
	w.String(b.Method)
	w.Int(int64(b.ParentPID))
	w.String(b.ParentName)
	w.Bytes(b.AuthKey)
	names := make([]string, 0, len(b.Globals))
	for n := range b.Globals {
		names = append(names, n)
	}
	sort.Strings(names)
	w.Uint(uint64(len(names)))
	for _, n := range names {
		w.String(n)
		w.Bytes(b.Globals[n])
	}
	w.Uint(uint64(len(b.Passed)))
	for _, p := range b.Passed {
		w.Raw(p.ID[:])
		w.Uint(uint64(p.N))
	}
	w.Bool(b.LogStderr)
	w.Int(int64(b.LogLevel))
	var stdio byte
	for i, set := range b.Stdio {
		if set {
			stdio |= 1 << i
		}
	}
	w.Byte(stdio)
	return w.B
}

// UnmarshalBinary decodes what MarshalBinary encoded; malformed input gives
// an error wrapping ErrBadFrame.
func (b *Boot) UnmarshalBinary(p []byte) error {
	r := newReader(p)
	b.Nonce = r.String()
	b.Target = r.String()
	b.Args = r.Bytes()
	b.Name = r.String()
	if n := r.Count(1); n > 0 {
		b.Identity = make([]int, n)
		for i := range b.Identity {
			b.Identity[i] = int(r.Int())
		}
	}
	b.Daemon = r.Bool()
	b.Grace = r.Int()
	b.Quiet = r.Bool()
	b.QuietAll = r.Bool()
	b.Method = r.String()
	b.ParentPID = int(r.Int())
	b.ParentName = r.String()
	b.AuthKey = r.Bytes()
	if n := r.Count(2); n > 0 {
		b.Globals = make(map[string][]byte, n)
		for range n {
			name := r.String()
			b.Globals[name] = r.Bytes()
		}
	}
	if n := r.Count(17); n > 0 {
		b.Passed = make([]Passed, n)
		for i := range b.Passed {
			copy(b.Passed[i].ID[:], r.Raw(16))
			if c := r.Uint(); c <= 1<<31-1 {
				b.Passed[i].N = int(c)
			} else {
				r.Fail("count")
			}
		}
	}
	b.LogStderr = r.Bool()
	b.LogLevel = int(r.Int())
	stdio := r.Byte()
	if stdio > 7 {
		r.Fail("standard files")
	}
	for i := range b.Stdio {
		b.Stdio[i] = stdio&(1<<i) != 0
	}
	return r.End()
}

// MarshalBinary encodes r.
func (r *Report) MarshalBinary() ([]byte, error) {
	size := 64 + len(r.Err) + len(r.ErrType) + len(r.Panic) + len(r.Stack)
	for _, sp := range r.Spills {
		size += 20 + len(sp.Queue) + len(sp.Frames)
	}
	w := &wire.Writer{B: make([]byte, 0, size)}
	w.Int(int64(r.Code))
	w.String(r.Err)
	w.String(r.ErrType)
	w.String(r.Panic)
	w.String(r.Stack)
	w.Bool(r.Guard)
	w.Bool(r.Boot)
	w.Uint(uint64(len(r.Spills)))
	for _, sp := range r.Spills {
		w.Bytes(sp.Queue)
		w.Bytes(sp.Frames)
	}
	w.Uint(uint64(r.Lost))
	return w.B, nil
}

// UnmarshalBinary decodes what MarshalBinary encoded; malformed input gives
// an error wrapping ErrBadFrame.
func (r *Report) UnmarshalBinary(p []byte) error {
	rd := newReader(p)
	r.Code = int(rd.Int())
	r.Err = rd.String()
	r.ErrType = rd.String()
	r.Panic = rd.String()
	r.Stack = rd.String()
	r.Guard = rd.Bool()
	r.Boot = rd.Bool()
	if n := rd.Count(2); n > 0 {
		r.Spills = make([]Spill, n)
		for i := range r.Spills {
			r.Spills[i].Queue = rd.Bytes()
			r.Spills[i].Frames = rd.Bytes()
		}
	}
	r.Lost = int(min(rd.Uint(), 1<<31))
	return rd.End()
}
