package wire

import (
	"fmt"
	"hash/fnv"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/fxamacker/cbor/v2"
)

// Types carried inside interface values travel with a CBOR tag that names
// them. The tag number is derived from a 64-bit FNV-1a hash of the type's
// full name (package path and name, type arguments included), so every
// process that registers the type agrees on it without coordination. The
// numbers lie in CBOR's first-come-first-served range, above 2^63, away
// from every number IANA has assigned; two names hashing alike are caught
// when the second registers.

// modes is an immutable snapshot of the codec's configuration: the
// encoding and decoding modes with the registered tags. Registering a type
// builds a new snapshot, so encoding and decoding take no lock.
type modes struct {
	enc cbor.UserBufferEncMode
	dec cbor.DecMode
	// plain are enc and dec without the tags, for types that need none:
	// a mode with tags looks each value's type up in them.
	plainEnc cbor.UserBufferEncMode
	plainDec cbor.DecMode
	tagged   sync.Map // reflect.Type -> bool: whether the type needs the tags
	byType   map[reflect.Type]uint64
	byTag    map[uint64]reflect.Type
}

var (
	current    atomic.Pointer[modes]
	registerMu sync.Mutex
)

func init() { current.Store(newModes(nil, nil)) }

func tagOf(t reflect.Type) uint64 {
	h := fnv.New64a()
	h.Write([]byte(typeName(t)))
	return 1<<63 | h.Sum64()>>2
}

// RegisterType makes the type of v known to the codec as a type that may
// travel inside an interface value; a pointer registers the type it points
// to. Registering a type twice is harmless. It panics if v is nil, an
// unnamed type, or a type whose tag number collides with another's: these
// are programming errors.
func RegisterType(v any) {
	t := reflect.TypeOf(v)
	if t == nil {
		panic("mp: RegisterType(nil)")
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.PkgPath() == "" || t.Name() == "" {
		panic(fmt.Sprintf("mp: RegisterType: %s is not a named type; builtin and unnamed types need no registering", t))
	}
	if t == typeTime || t == typeBigInt {
		return // built into the codec
	}
	if ti := infoOf(t); ti.err != nil {
		panic(fmt.Sprintf("mp: RegisterType(%s): %v", t, ti.err))
	}
	registerMu.Lock()
	defer registerMu.Unlock()
	cur := current.Load()
	if _, ok := cur.byType[t]; ok {
		return
	}
	tag := tagOf(t)
	if other, ok := cur.byTag[tag]; ok {
		panic(fmt.Sprintf("mp: RegisterType: %s and %s have the same tag number (%#x): rename one", typeName(t), typeName(other), tag))
	}
	byType := make(map[reflect.Type]uint64, len(cur.byType)+1)
	for k, v := range cur.byType {
		byType[k] = v
	}
	byType[t] = tag
	byTag := make(map[uint64]reflect.Type, len(byType))
	for k, v := range byType {
		byTag[v] = k
	}
	current.Store(newModes(byType, byTag))
}

func newModes(byType map[reflect.Type]uint64, byTag map[uint64]reflect.Type) *modes {
	m := &modes{byType: byType, byTag: byTag}
	eo := cbor.EncOptions{
		Time:          cbor.TimeRFC3339Nano,
		TimeTag:       cbor.EncTagRequired,
		IndefLength:   cbor.IndefLengthForbidden,
		NilContainers: cbor.NilContainerAsNull,
		ShortestFloat: cbor.ShortestFloatNone,
		NaNConvert:    cbor.NaNConvertNone, // NaN payloads and widths cross as they are
		InfConvert:    cbor.InfConvertNone,
	}
	do := cbor.DecOptions{
		DupMapKey:            cbor.DupMapKeyQuiet,
		TimeTag:              cbor.DecTagOptional,
		MaxNestedLevels:      MaxDepth + depthMargin,
		MaxArrayElements:     maxElements,
		MaxMapPairs:          maxElements,
		IndefLength:          cbor.IndefLengthForbidden,
		TagsMd:               cbor.TagsAllowed,
		IntDec:               cbor.IntDecConvertSignedOrBigInt,
		UTF8:                 cbor.UTF8DecodeInvalid,
		FieldNameMatching:    cbor.FieldNameMatchingCaseSensitive,
		UnrecognizedTagToAny: cbor.UnrecognizedTagContentToAny,
	}
	var err error
	m.plainEnc, err = eo.UserBufferEncMode()
	if err == nil {
		m.plainDec, err = do.DecMode()
	}
	m.enc, m.dec = m.plainEnc, m.plainDec
	if err == nil && len(byType) > 0 {
		tags := cbor.NewTagSet()
		for t, tag := range byType {
			if err = tags.Add(cbor.TagOptions{EncTag: cbor.EncTagRequired, DecTag: cbor.DecTagOptional}, t, tag); err != nil {
				break
			}
		}
		if err == nil {
			m.enc, err = eo.UserBufferEncModeWithTags(tags)
		}
		if err == nil {
			m.dec, err = do.DecModeWithTags(tags)
		}
	}
	if err != nil {
		panic("mp: configuring the codec: " + err.Error())
	}
	return m
}

// forType returns the modes for values of type t: with the tags if t's
// graph holds an interface or a registered type.
func (m *modes) forType(t reflect.Type, ti *typeInfo) (cbor.UserBufferEncMode, cbor.DecMode) {
	if len(m.byType) == 0 {
		return m.plainEnc, m.plainDec
	}
	if v, ok := m.tagged.Load(t); ok {
		if v.(bool) {
			return m.enc, m.dec
		}
		return m.plainEnc, m.plainDec
	}
	need := ti.iface
	for _, n := range ti.named {
		if _, ok := m.byType[n]; ok {
			need = true
		}
	}
	m.tagged.Store(t, need)
	return m.forType(t, ti)
}
