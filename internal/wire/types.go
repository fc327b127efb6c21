package wire

import (
	"encoding"
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// typeInfo is what the codec learns once per type, by walking the type
// graph from it.
type typeInfo struct {
	// err refuses the type: an unexported field (named type.field), a
	// channel, a function, a complex number.
	err error
	// walk: encoding a value must look at it (a recursive type, whose
	// values can nest without bound, or an interface, whose contents the
	// type does not tell).
	walk bool
	// iface: the graph holds an interface, whose decoding may allocate
	// what the registered types allocate.
	iface bool
	// charge bounds what decoding one CBOR data item into a place of the
	// graph allocates, in bytes (the slice element, map entry or pointee
	// it fills; strings and byte strings cost their length, which is in
	// the message). A type whose charge is at most AllocFactor cannot make
	// a message allocate more than AllocFactor times its size.
	charge uintptr
	// named lists the named types of the graph that decoding an
	// interface would have to know: those inside an interface must be
	// registered.
	named []reflect.Type
}

var (
	typeTime              = reflect.TypeFor[time.Time]()
	typeBigInt            = reflect.TypeFor[big.Int]()
	typeBinaryMarshaler   = reflect.TypeFor[encoding.BinaryMarshaler]()
	typeBinaryUnmarshaler = reflect.TypeFor[encoding.BinaryUnmarshaler]()
	typeCBORMarshaler     = reflect.TypeFor[cbor.Marshaler]()
	typeCBORUnmarshaler   = reflect.TypeFor[cbor.Unmarshaler]()
)

// selfEncoded reports whether t has an encoding of its own, which the codec
// uses instead of looking at its fields: time.Time, big.Int, or a type
// whose pointer implements encoding.BinaryMarshaler (or cbor.Marshaler).
func selfEncoded(t reflect.Type) bool {
	if t == typeTime || t == typeBigInt {
		return true
	}
	p := reflect.PointerTo(t)
	return p.Implements(typeBinaryMarshaler) || p.Implements(typeCBORMarshaler)
}

// selfDecoded is selfEncoded's decoding side.
func selfDecoded(t reflect.Type) bool {
	if t == typeTime || t == typeBigInt {
		return true
	}
	p := reflect.PointerTo(t)
	return p.Implements(typeBinaryUnmarshaler) || p.Implements(typeCBORUnmarshaler)
}

var infos sync.Map // reflect.Type -> *typeInfo

// infoOf returns t's typeInfo, computing it on first use.
func infoOf(t reflect.Type) *typeInfo {
	if ti, ok := infos.Load(t); ok {
		return ti.(*typeInfo)
	}
	a := &analysis{state: map[reflect.Type]int{}, named: map[reflect.Type]bool{}}
	ti := &typeInfo{}
	a.visit(t, ti, "")
	for n := range a.named {
		ti.named = append(ti.named, n)
	}
	got, _ := infos.LoadOrStore(t, ti)
	return got.(*typeInfo)
}

type analysis struct {
	state map[reflect.Type]int // 1 on the path, 2 done
	named map[reflect.Type]bool
}

// Overheads charged on top of the element sizes: a map's slot control
// bytes and growth per entry, a map's header (even an empty map has one),
// an interface's box.
const (
	mapOverhead = 16
	mapHeader   = 48
	boxOverhead = 16
)

// cost is what one data item decoded into a place of type t allocates at
// least beyond the place itself, and the place: t's size, plus the
// pointee of a pointer (a one-byte empty map fills a *struct), plus a
// map's header.
func cost(t reflect.Type) uintptr {
	extra := uintptr(0)
	for range 8 { // pointers to pointers: enough to be generous
		switch t.Kind() {
		case reflect.Pointer:
			t = t.Elem()
			extra += t.Size()
			continue
		case reflect.Map:
			extra += mapHeader
		case reflect.Interface:
			extra += boxOverhead
		}
		break
	}
	return extra
}

// genericCharge is what decoding one data item into an empty interface
// allocates at most, unless it is of a registered type: a box, a map
// entry of two interfaces, a slice slot.
const genericCharge = 2*16 + mapOverhead + 2*boxOverhead

func (a *analysis) charge(ti *typeInfo, n uintptr) {
	ti.charge = max(ti.charge, n)
}

// visit walks the graph from t; where names the field being walked, for
// errors.
func (a *analysis) visit(t reflect.Type, ti *typeInfo, where string) {
	switch a.state[t] {
	case 1:
		ti.walk = true // a cycle: values nest without bound
		return
	case 2:
		return
	}
	a.state[t] = 1
	defer func() { a.state[t] = 2 }()
	if t.PkgPath() != "" && t.Kind() != reflect.Interface {
		a.named[t] = true
	}
	if selfEncoded(t) {
		if !selfDecoded(t) && ti.err == nil {
			ti.err = fmt.Errorf("%w: %s implements encoding.BinaryMarshaler but *%s does not implement encoding.BinaryUnmarshaler",
				ErrBadMessage, t, t)
		}
		return
	}
	switch t.Kind() {
	case reflect.Chan, reflect.Func, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128:
		if ti.err == nil {
			what := t.String()
			if where != "" {
				what = where + " (" + what + ")"
			}
			ti.err = fmt.Errorf("%w: cannot encode %s: a %s cannot cross to another process", ErrBadMessage, what, t.Kind())
		}
	case reflect.Interface:
		ti.walk, ti.iface = true, true
		a.charge(ti, genericCharge)
	case reflect.Pointer:
		a.charge(ti, cost(t))
		a.visit(t.Elem(), ti, where)
	case reflect.Slice:
		a.charge(ti, t.Elem().Size()+cost(t.Elem()))
		a.visit(t.Elem(), ti, where)
	case reflect.Array:
		a.visit(t.Elem(), ti, where)
	case reflect.Map:
		a.charge(ti, t.Key().Size()+cost(t.Key())+t.Elem().Size()+cost(t.Elem())+mapOverhead)
		a.visit(t.Key(), ti, where)
		a.visit(t.Elem(), ti, where)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			name := t.String() + "." + f.Name
			if !f.IsExported() {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				switch {
				case f.Tag.Get("mp") == "-":
					continue // left behind on purpose
				case f.Anonymous && ft.Kind() == reflect.Struct:
					// Its exported fields are promoted: walk them.
				default:
					if ti.err == nil {
						ti.err = fmt.Errorf("%w: cannot encode %s: field %s is unexported (export it, tag it `mp:\"-\"` to leave it behind, or implement encoding.BinaryMarshaler)",
							ErrBadMessage, t, name)
					}
					continue
				}
			}
			if tag := fieldTag(f); tag == "-" {
				continue
			}
			a.visit(f.Type, ti, name)
		}
	}
}

// fieldTag returns the struct tag the codec reads: cbor, then json.
func fieldTag(f reflect.StructField) string {
	if tag, ok := f.Tag.Lookup("cbor"); ok {
		return tag
	}
	return f.Tag.Get("json")
}

// typeName is t's name with its package path, as errors print it.
func typeName(t reflect.Type) string {
	if t.PkgPath() == "" || t.Name() == "" {
		return t.String()
	}
	return t.PkgPath() + "." + t.Name()
}

// structField is a field that a key of an encoded struct may name.
type structField struct {
	typ reflect.Type
	// embedded pointers to structs on the way to the field: decoding the
	// field allocates them.
	via []reflect.Type
}

var fieldMaps sync.Map // reflect.Type -> map[string][]structField

// fieldsOf returns the fields of struct t by the names the codec gives
// them, embedded structs' fields included. A name may have several
// candidates; the decoding walk charges the dearest.
func fieldsOf(t reflect.Type) map[string][]structField {
	if m, ok := fieldMaps.Load(t); ok {
		return m.(map[string][]structField)
	}
	m := map[string][]structField{}
	var add func(t reflect.Type, via []reflect.Type, depth int)
	add = func(t reflect.Type, via []reflect.Type, depth int) {
		if depth > 32 {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			tag := fieldTag(f)
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			ft := f.Type
			if f.Anonymous && name == "" {
				inner, v := ft, via
				if inner.Kind() == reflect.Pointer {
					inner = inner.Elem()
					v = append(append([]reflect.Type(nil), via...), inner)
				}
				if inner.Kind() == reflect.Struct && !selfDecoded(inner) {
					add(inner, v, depth+1)
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			m[name] = append(m[name], structField{typ: ft, via: via})
		}
	}
	add(t, nil, 0)
	got, _ := fieldMaps.LoadOrStore(t, m)
	return got.(map[string][]structField)
}
