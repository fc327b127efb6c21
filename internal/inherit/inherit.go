// Package inherit holds the registry of globals that the Fork start method
// carries into a child. Package isolation is its public face; package mp
// snapshots it at Start and restores it in the child.
package inherit

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"

	"github.com/go-mp/mp/internal/wire"
)

var (
	mu      sync.RWMutex
	globals = map[string]reflect.Value{} // name -> pointer
)

// ErrUnknown reports a carried global the child has not registered.
var ErrUnknown = errors.New("mp: carried global is not registered in the child")

// Add registers ptr under name. It panics on a nil or non-pointer ptr, an
// empty name, or a name already registered for another pointer.
func Add(name string, ptr any) {
	if name == "" {
		panic("mp: isolation.Inherit: empty name")
	}
	v := reflect.ValueOf(ptr)
	if !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() {
		panic(fmt.Sprintf("mp: isolation.Inherit(%q): want a non-nil pointer to a global, got %T", name, ptr))
	}
	mu.Lock()
	defer mu.Unlock()
	if old, ok := globals[name]; ok {
		if old.Pointer() == v.Pointer() && old.Type() == v.Type() {
			return
		}
		panic(fmt.Sprintf("mp: isolation.Inherit(%q): name already registered for another %s", name, old.Type()))
	}
	globals[name] = v
}

// Names returns the registered names, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(globals))
	for n := range globals {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Pointers returns a pointer to each registered global, so that Start can
// find the connections and queues among their values.
func Pointers() []any {
	mu.RLock()
	defer mu.RUnlock()
	ptrs := make([]any, 0, len(globals))
	for _, ptr := range globals {
		ptrs = append(ptrs, ptr.Interface())
	}
	return ptrs
}

// Snapshot encodes the current value of every registered global. It returns
// nil when nothing is registered.
func Snapshot() (map[string][]byte, error) {
	mu.RLock()
	defer mu.RUnlock()
	if len(globals) == 0 {
		return nil, nil
	}
	out := make(map[string][]byte, len(globals))
	for name, ptr := range globals {
		b, err := wire.Encode(nil, ptr.Interface()) // the pointer: encoded as its target, with its static type
		if err != nil {
			return nil, fmt.Errorf("mp: cannot carry global %q (%s): %w", name, ptr.Type().Elem(), err)
		}
		out[name] = b
	}
	return out, nil
}

// Restore sets each registered global named in snap to its carried value.
func Restore(snap map[string][]byte) error {
	mu.RLock()
	defer mu.RUnlock()
	for name, b := range snap {
		ptr, ok := globals[name]
		if !ok {
			return fmt.Errorf("%w: %q (register it with isolation.Inherit before mp.Main)", ErrUnknown, name)
		}
		if err := wire.Decode(b, ptr.Interface()); err != nil {
			return fmt.Errorf("mp: restoring global %q: %w", name, err)
		}
	}
	return nil
}
