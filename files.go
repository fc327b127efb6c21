package mp

import (
	"fmt"
	"reflect"

	"github.com/go-mp/mp/internal/handles"
)

// Connections, queues and the other values whose files cross into a child
// are passable: each owns a handles.Set, its files under an identity that
// every copy of the value shares, and encodes only that identity and its
// numbers. Start finds the passable values among what it carries (the
// arguments, a Runner's exported fields, the Fork globals), collected per
// Start, and passes their files after the bootstrap; the child installs
// them before it decodes anything. Encoding a passable value anywhere else
// (Send, Put) works, but decoding it in a process that does not hold its
// files gives ErrNotPassable; a process that holds them gets back a value
// that shares them.
type passable interface {
	// passSet returns the value's Set, or why it cannot be passed.
	passSet() (*handles.Set, error)
}

var passableType = reflect.TypeFor[passable]()

// passables finds the passable values inside what Start carries.
var passables = &handles.Finder{
	Is: func(t reflect.Type) bool { return t.Kind() == reflect.Pointer && t.Implements(passableType) },
	Get: func(v reflect.Value) (*handles.Set, error) {
		return v.Interface().(passable).passSet()
	},
}

// heldSet returns the Set with the identity id, which a decoded value of
// kind what (Conn, Queue) refers to, checking that it has n files.
func heldSet(id [16]byte, n int, what string) (*handles.Set, error) {
	s, err := handles.Lookup(handles.ID(id))
	if err != nil {
		return nil, fmt.Errorf("%w: this process does not hold that %s: a %s crosses into another process only as an argument of Process or a field of a Runner, or as a Fork global",
			ErrNotPassable, what, what)
	}
	if len(s.Files) != n {
		return nil, fmt.Errorf("%w: malformed %s", ErrBadMessage, what)
	}
	return s, nil
}
