package handles

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
)

// MaxDepth bounds how deep a Finder looks into a value: every pointer,
// interface, struct field, element and map entry it steps through counts
// one. It is far deeper than any value the codec encodes (whose limit
// counts only containers); it is there so that a value nested without end
// is an error rather than a stack overflow.
const MaxDepth = 100_000

// ErrTooDeep reports a value nested deeper than MaxDepth.
var ErrTooDeep = errors.New("value nested too deeply")

// A Finder finds the passable values inside other values: what Start
// carries into a child. It looks where the codec looks: through pointers,
// interfaces, exported struct fields, slices, arrays and map keys and
// values, once per pointer or map however often the value refers to it,
// and not inside passable values. Types that cannot hold a passable value
// are skipped without a look at their values. A Finder is safe for
// concurrent use.
type Finder struct {
	// Is reports whether values of type t are passable (t may be any
	// type). A passable value is not looked into: what it carries is its
	// Set.
	Is func(t reflect.Type) bool
	// Get returns the Set of v, a non-nil value of a passable type.
	Get func(v reflect.Value) (*Set, error)

	mayHold sync.Map // reflect.Type -> bool
}

// Find returns the Sets of the passable values inside values, each once,
// in the order it met them.
func (f *Finder) Find(values ...any) ([]*Set, error) {
	w := walk{f: f}
	for _, v := range values {
		if err := w.value(reflect.ValueOf(v), 0); err != nil {
			return nil, err
		}
	}
	return w.sets, nil
}

type visit struct {
	ptr uintptr
	len int // slices: their length
	typ reflect.Type
}

type walk struct {
	f    *Finder
	sets []*Set
	seen map[ID]bool
	done map[visit]bool // pointers and maps already looked into
}

func (w *walk) value(v reflect.Value, depth int) error {
	if !v.IsValid() {
		return nil
	}
	if depth > MaxDepth {
		return fmt.Errorf("%w: over %d levels", ErrTooDeep, MaxDepth)
	}
	t := v.Type()
	if !w.f.holds(t) {
		return nil
	}
	if w.f.Is(t) {
		if v.IsNil() {
			return nil
		}
		s, err := w.f.Get(v)
		if err != nil {
			return err
		}
		if !w.seen[s.ID] {
			if w.seen == nil {
				w.seen = map[ID]bool{}
			}
			w.seen[s.ID] = true
			w.sets = append(w.sets, s)
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Interface:
		return w.value(v.Elem(), depth+1)
	case reflect.Pointer:
		if v.IsNil() || w.once(v) {
			return nil
		}
		return w.value(v.Elem(), depth+1)
	case reflect.Struct:
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				if err := w.value(v.Field(i), depth+1); err != nil {
					return err
				}
			}
		}
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && (v.IsNil() || w.once(v)) {
			return nil
		}
		for i := range v.Len() {
			if err := w.value(v.Index(i), depth+1); err != nil {
				return err
			}
		}
	case reflect.Map:
		if v.IsNil() || w.once(v) {
			return nil
		}
		for it := v.MapRange(); it.Next(); {
			if err := w.value(it.Key(), depth+1); err != nil {
				return err
			}
			if err := w.value(it.Value(), depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// once reports whether the pointer, slice or map v was looked into
// before, and notes that it has been. A slice is told by its first
// element, its length and its type.
func (w *walk) once(v reflect.Value) bool {
	k := visit{ptr: v.Pointer(), typ: v.Type()}
	if v.Kind() == reflect.Slice {
		k.len = v.Len()
	}
	if w.done[k] {
		return true
	}
	if w.done == nil {
		w.done = map[visit]bool{}
	}
	w.done[k] = true
	return false
}

// holds reports whether a value of type t may hold a passable value.
func (f *Finder) holds(t reflect.Type) bool {
	if v, ok := f.mayHold.Load(t); ok {
		return v.(bool)
	}
	r := f.typeHolds(t, map[reflect.Type]bool{})
	f.mayHold.Store(t, r)
	return r
}

// typeHolds computes holds; visiting cuts recursive types, whose answer
// comes from their other parts.
func (f *Finder) typeHolds(t reflect.Type, visiting map[reflect.Type]bool) bool {
	if f.Is(t) {
		return true
	}
	if visiting[t] {
		return false
	}
	visiting[t] = true
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return f.typeHolds(t.Elem(), visiting)
	case reflect.Map:
		return f.typeHolds(t.Key(), visiting) || f.typeHolds(t.Elem(), visiting)
	case reflect.Struct:
		for i := range t.NumField() {
			if sf := t.Field(i); sf.IsExported() && f.typeHolds(sf.Type, visiting) {
				return true
			}
		}
	}
	return false
}
