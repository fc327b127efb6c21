package wire

import (
	"encoding/binary"
	"fmt"
	"reflect"
)

// budget walks the well-formed CBOR data item data against the type t it
// is to be decoded into, adding up what decoding would allocate: n times
// the element size for a slice of n, an entry for each map pair, the
// pointee for each non-nil pointer, the registered type for each tagged
// interface value, the bytes of each string. It refuses a message that
// would allocate more than AllocFactor times its size (plus allocSlack).
//
// It needs the item to be well formed (and definite-length, which the
// decoding mode demands), so Wellformed runs first; it returns an error
// rather than trust anything else.
func (m *modes) budget(data []byte, t reflect.Type) error {
	w := &walker{m: m, b: data, limit: AllocFactor*uint64(len(data)) + allocSlack}
	w.item(t, 0)
	if w.err == nil && w.pos != len(w.b) {
		w.fail("trailing bytes")
	}
	return w.err
}

type walker struct {
	m       *modes
	b       []byte
	pos     int
	charged uint64
	limit   uint64
	err     error
}

func (w *walker) fail(what string) {
	if w.err == nil {
		w.err = fmt.Errorf("%w: %s", ErrBadMessage, what)
	}
}

func (w *walker) charge(n uint64) {
	w.charged += n
	if w.charged > w.limit && w.err == nil {
		w.err = fmt.Errorf("%w: a message of %d bytes would allocate more than %d", ErrBadMessage, len(w.b)+1, w.limit)
	}
}

// CBOR major types.
const (
	majUint = iota
	majNeg
	majBytes
	majText
	majArray
	majMap
	majTag
	majSimple
)

// head reads a data item's initial byte and argument without consuming
// them; size is their length.
func (w *walker) head() (major byte, arg uint64, size int) {
	if w.pos >= len(w.b) {
		w.fail("truncated")
		return 0, 0, 0
	}
	c := w.b[w.pos]
	major, info := c>>5, c&31
	rest := w.b[w.pos+1:]
	switch {
	case info < 24:
		return major, uint64(info), 1
	case info == 24 && len(rest) >= 1:
		return major, uint64(rest[0]), 2
	case info == 25 && len(rest) >= 2:
		return major, uint64(binary.BigEndian.Uint16(rest)), 3
	case info == 26 && len(rest) >= 4:
		return major, uint64(binary.BigEndian.Uint32(rest)), 5
	case info == 27 && len(rest) >= 8:
		return major, binary.BigEndian.Uint64(rest), 9
	}
	w.fail("malformed data item")
	return 0, 0, 0
}

// payload returns the length of a string's bytes, checked.
func (w *walker) strLen(arg uint64) int {
	if arg > uint64(len(w.b)-w.pos) {
		w.fail("truncated string")
		return 0
	}
	return int(arg)
}

// skip passes over one data item and everything inside it, charging
// nothing, without recursion.
func (w *walker) skip() {
	for n := uint64(1); n > 0 && w.err == nil; n-- {
		major, arg, size := w.head()
		if w.err != nil {
			return
		}
		w.pos += size
		switch major {
		case majBytes, majText:
			w.pos += w.strLen(arg)
		case majArray:
			n += arg
		case majMap:
			n += 2 * arg
		case majTag:
			n++
		}
		if n > uint64(len(w.b)) {
			w.fail("count beyond the message")
		}
	}
}

// noNestedTag refuses a tag whose content is another tag. Encode never
// writes one, and cbor, decoding a chain of n tags into an interface,
// gathers the chain's numbers again at each level: n^2 allocation.
func (w *walker) noNestedTag() {
	if w.pos < len(w.b) && w.b[w.pos]>>5 == majTag {
		w.fail("a tag inside a tag")
	}
}

func isNull(c byte) bool { return c == 0xf6 || c == 0xf7 }

// item walks one data item to be decoded into a value of type t.
func (w *walker) item(t reflect.Type, depth int) {
	if w.err != nil {
		return
	}
	if depth > MaxDepth+depthMargin {
		w.fail("nested too deeply")
		return
	}
	// Pointers: null leaves them nil; anything else allocates the pointee.
	for t.Kind() == reflect.Pointer {
		if w.pos < len(w.b) && isNull(w.b[w.pos]) {
			w.pos++
			return
		}
		t = t.Elem()
		w.charge(uint64(t.Size()))
	}
	major, arg, size := w.head()
	if w.err != nil {
		return
	}
	if t.Kind() == reflect.Interface {
		w.generic(depth)
		return
	}
	if major == majTag {
		// A tag before a value of a static type: the decoder checks it
		// against the type; the content is decoded into the type.
		w.pos += size
		w.noNestedTag()
		w.item(t, depth+1)
		return
	}
	if selfDecoded(t) {
		start := w.pos
		w.skip()
		w.charge(uint64(w.pos - start))
		return
	}
	switch t.Kind() {
	case reflect.String:
		if major == majBytes || major == majText {
			w.pos += size
			w.charge(uint64(w.strLen(arg)))
			w.pos += w.strLen(arg)
			return
		}
	case reflect.Slice:
		switch major {
		case majBytes, majText:
			w.pos += size
			w.charge(uint64(w.strLen(arg)))
			w.pos += w.strLen(arg)
			return
		case majArray:
			w.pos += size
			if arg > uint64(len(w.b)-w.pos) {
				w.fail("count beyond the message")
				return
			}
			w.charge(arg * uint64(t.Elem().Size()))
			for range arg {
				w.item(t.Elem(), depth+1)
			}
			return
		}
	case reflect.Array:
		if major == majArray {
			w.pos += size
			if arg > uint64(len(w.b)-w.pos) {
				w.fail("count beyond the message")
				return
			}
			for range arg {
				w.item(t.Elem(), depth+1)
			}
			return
		}
	case reflect.Map:
		if major == majMap {
			w.pos += size
			if arg > uint64(len(w.b)-w.pos)/2 {
				w.fail("count beyond the message")
				return
			}
			w.charge(mapHeader + arg*uint64(t.Key().Size()+t.Elem().Size()+mapOverhead))
			for range arg {
				w.item(t.Key(), depth+1)
				w.item(t.Elem(), depth+1)
			}
			return
		}
	case reflect.Struct:
		switch major {
		case majMap:
			w.pos += size
			w.structMap(t, arg, depth)
			return
		case majArray: // a struct tagged toarray
			w.pos += size
			fields := reflect.VisibleFields(t)
			for i := range arg {
				if i < uint64(len(fields)) {
					w.item(fields[i].Type, depth+1)
				} else {
					w.skip()
				}
			}
			return
		}
	}
	// Anything else is a scalar, or a mismatch the decoder will refuse;
	// neither allocates more than its bytes.
	start := w.pos
	w.skip()
	w.charge(uint64(w.pos - start))
}

// structMap walks n key/value pairs decoded into struct t.
func (w *walker) structMap(t reflect.Type, n uint64, depth int) {
	if n > uint64(len(w.b)-w.pos)/2 {
		w.fail("count beyond the message")
		return
	}
	fields := fieldsOf(t)
	var allocated map[reflect.Type]bool // embedded pointers charged once
	for range n {
		major, arg, size := w.head()
		if w.err != nil {
			return
		}
		var cands []structField
		if major == majText {
			l := w.strLen(arg)
			cands = fields[string(w.b[w.pos+size:w.pos+size+l])]
		}
		w.skip() // the key
		if len(cands) == 0 {
			w.skip()
			continue
		}
		for _, c := range cands {
			for _, e := range c.via {
				if !allocated[e] {
					if allocated == nil {
						allocated = map[reflect.Type]bool{}
					}
					allocated[e] = true
					w.charge(uint64(e.Size()))
				}
			}
		}
		// Several candidates: charge the dearest reading.
		start, base := w.pos, w.charged
		var most uint64
		end := start
		for _, c := range cands {
			w.pos, w.charged = start, base
			w.item(c.typ, depth+1)
			most = max(most, w.charged-base)
			end = w.pos
		}
		w.pos, w.charged = end, base
		w.charge(most)
	}
}

// generic walks a data item decoded into an interface: a builtin value
// (a box), a slice of interfaces, a map of interfaces, or a tagged value
// of a registered type.
func (w *walker) generic(depth int) {
	if depth > MaxDepth+depthMargin {
		w.fail("nested too deeply")
		return
	}
	major, arg, size := w.head()
	if w.err != nil {
		return
	}
	switch major {
	case majBytes, majText:
		w.pos += size
		l := w.strLen(arg)
		w.charge(uint64(l) + 24) // the bytes, and a box for the header
		w.pos += l
	case majArray:
		w.pos += size
		if arg > uint64(len(w.b)-w.pos) {
			w.fail("count beyond the message")
			return
		}
		w.charge(24 + arg*16) // the slice's box, and a slot an element
		for range arg {
			w.generic(depth + 1)
		}
	case majMap:
		w.pos += size
		if arg > uint64(len(w.b)-w.pos)/2 {
			w.fail("count beyond the message")
			return
		}
		w.charge(mapHeader + arg*(32+mapOverhead))
		for range 2 * arg {
			w.generic(depth + 1)
		}
	case majTag:
		w.pos += size
		w.noNestedTag()
		if rt, ok := w.m.byTag[arg]; ok {
			w.charge(uint64(rt.Size()) + boxOverhead)
			w.item(rt, depth+1)
			return
		}
		w.charge(64) // a time, a big integer, or the content alone
		w.generic(depth + 1)
	default:
		w.pos += size
		w.charge(boxOverhead) // a number's box
	}
}
