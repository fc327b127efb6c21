package wire

import (
	"bytes"
	"fmt"
	"reflect"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// Values travel in CBOR (RFC 8949), encoded and decoded by
// github.com/fxamacker/cbor, which checks a message is well formed before
// it decodes it and bounds counts by the bytes. The codec adds what mp's
// users and hostile peers need on top:
//
//   - A type is looked at once: one with unexported fields, channels,
//     functions or complex numbers is refused (an error names the field),
//     unless it has an encoding of its own (encoding.BinaryMarshaler).
//   - Values of recursive types, or holding interfaces, are walked before
//     they are encoded: deeper than MaxDepth is an error, not a stack
//     overflow, and a named type inside an interface must be registered
//     (RegisterType) so that the receiver can rebuild it.
//   - A message decodes into a fresh value that is then assigned, so
//     nothing of the variable's old value survives.
//   - Decoding into a type whose data items can each allocate more than
//     AllocFactor bytes (a slice of large structs, say) first walks the
//     message against the type, adding what it would allocate, and refuses
//     it beyond AllocFactor times its size.
//
// A value message is one byte, Marker, and the CBOR data item.

// Marker starts every value message; a message without it was not made by
// Encode (RecvBytes and SendBytes carry other bytes).
const Marker = 0xcb

// MaxDepth is how deeply a value may nest: each pointer, struct, slice,
// array, map and interface on the way down counts one level.
const MaxDepth = 10000

// depthMargin allows for CBOR levels that the encoding walk does not see.
const depthMargin = 64

// AllocFactor bounds decoding: a message of n bytes allocates at most
// about AllocFactor*n bytes (plus a constant) for the value it decodes.
const AllocFactor = 48

// allocSlack is the constant part of the bound: what the decoded value's
// own top level may take.
const allocSlack = 4096

const maxElements = 2147483647

var errTooDeep = fmt.Errorf("%w: value nested more than %d levels deep", ErrBadMessage, MaxDepth)

// Encode appends the value message for v to dst. v may be nil. Errors wrap
// ErrBadMessage.
func Encode(dst []byte, v any) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: cannot encode %T: %v", ErrBadMessage, v, r)
		}
	}()
	if out, ok := encodeFast(dst, v); ok {
		return out, nil
	}
	m := current.Load()
	enc := m.plainEnc
	if v != nil {
		t := reflect.TypeOf(v)
		ti := infoOf(t)
		if ti.err != nil {
			return nil, ti.err
		}
		if ti.walk {
			if err := m.check(reflect.ValueOf(v), 0); err != nil {
				return nil, err
			}
		}
		enc, _ = m.forType(t, ti)
	}
	buf := bufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 {
			bufs.Put(buf)
		}
	}()
	buf.Reset()
	buf.WriteByte(Marker)
	if err := enc.MarshalToBuffer(v, buf); err != nil {
		return nil, fmt.Errorf("%w: cannot encode %T: %w", ErrBadMessage, v, err)
	}
	return append(dst, buf.Bytes()...), nil
}

// bufs holds encoding buffers, so that a message costs one allocation (its
// own) rather than a buffer grown by doubling.
var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// check walks a value of a type that needs it (see typeInfo.walk).
func (m *modes) check(v reflect.Value, depth int) error {
	if depth > MaxDepth {
		return errTooDeep
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || !infoOf(v.Type()).walk {
			return nil
		}
		return m.check(v.Elem(), depth+1)
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		e := v.Elem()
		t := e.Type()
		ti := infoOf(t)
		if ti.err != nil {
			return ti.err
		}
		for _, n := range ti.named {
			if _, ok := m.byType[n]; !ok && !builtin(n) {
				return fmt.Errorf("%w: cannot encode %s inside an interface: register %s with mp.RegisterType in every process",
					ErrBadMessage, t, n)
			}
		}
		if !ti.walk {
			return nil
		}
		return m.check(e, depth+1)
	case reflect.Struct:
		t := v.Type()
		if selfEncoded(t) {
			return nil
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if fieldTag(f) == "-" || !infoOf(f.Type).walk {
				continue
			}
			if !f.IsExported() && !f.Anonymous {
				continue
			}
			if err := m.check(v.Field(i), depth+1); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() || !infoOf(v.Type().Elem()).walk {
			return nil
		}
		for i := range v.Len() {
			if err := m.check(v.Index(i), depth+1); err != nil {
				return err
			}
		}
	case reflect.Map:
		t := v.Type()
		kw, ew := infoOf(t.Key()).walk, infoOf(t.Elem()).walk
		if v.IsNil() || !kw && !ew {
			return nil
		}
		for it := v.MapRange(); it.Next(); {
			if kw {
				if err := m.check(it.Key(), depth+1); err != nil {
					return err
				}
			}
			if ew {
				if err := m.check(it.Value(), depth+1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Decode decodes the value message b into v, a non-nil pointer, replacing
// what v points to: a message holding nil sets it to its zero value.
// Malformed input gives an error wrapping ErrBadMessage, never a panic.
func Decode(b []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrBadMessage, r)
		}
	}()
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("mp: decoding needs a non-nil pointer, not %T", v)
	}
	if len(b) == 0 || b[0] != Marker {
		return fmt.Errorf("%w: not a value message (was it sent with SendBytes?)", ErrBadMessage)
	}
	data := b[1:]
	if decodeFast(data, v) {
		return nil
	}
	m := current.Load()
	t := rv.Type().Elem()
	ti := infoOf(t)
	// Interfaces are always walked: what fills them is up to the
	// message (and cbor's decoding of tags into them needs guarding, see
	// noNestedTag).
	if ti.iface || ti.charge > AllocFactor {
		if err := m.dec.Wellformed(data); err != nil {
			return fmt.Errorf("%w: %w", ErrBadMessage, err)
		}
		if err := m.budget(data, t); err != nil {
			return err
		}
	}
	_, dec := m.forType(t, ti)
	fresh := reflect.New(t)
	if err := dec.Unmarshal(data, fresh.Interface()); err != nil {
		return fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	rv.Elem().Set(fresh.Elem())
	return nil
}

// builtin reports whether named type t needs no registering to travel in
// an interface: the codec knows it (time.Time, big.Int), or decoding into
// an interface makes it (cbor.ByteString for a map key that is a byte
// string, cbor.SimpleValue).
func builtin(t reflect.Type) bool {
	return t == typeTime || t == typeBigInt || t.PkgPath() == cborPkg
}

var cborPkg = reflect.TypeFor[cbor.ByteString]().PkgPath()
