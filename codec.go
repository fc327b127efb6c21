package mp

import (
	"fmt"
	"reflect"

	"github.com/go-mp/mp/internal/wire"
)

// MaxDepth is how deeply a value sent to another process may nest: each
// pointer, struct, slice, array, map and interface on the way down is a
// level. Send, Put and Start refuse a deeper value with ErrBadMessage
// (a linked list of more than MaxDepth/2 nodes, say, or a cycle of
// pointers); it never overflows the stack.
const MaxDepth = wire.MaxDepth

// RegisterType makes the type of each value known as a type that may
// travel inside an interface value (a field of type any or error, an
// element of a []any), as gob.Register did: the receiver then decodes it
// as that type. A pointer registers the type it points to, and the
// receiver gets a value of that type, not a pointer. Every process that
// decodes such values must register the type too, which a call from
// init, or before Main, does. Registering a type twice is harmless.
//
// Builtin types (numbers, strings, []byte, bool), time.Time, and unnamed
// slices and maps of them need no registering; a named type sent inside
// an interface without being registered is refused by Send, Put and
// Start, since the receiver could not rebuild it. See "Values" in the
// package documentation for what an interface holding a builtin value
// decodes as.
//
// RegisterType panics if a value is nil or of an unnamed type, if its
// type cannot be sent (an unexported field, a channel, a function), or if
// two type names hash to the same tag number (rename one): these are
// programming errors.
func RegisterType(values ...any) {
	for _, v := range values {
		wire.RegisterType(v)
	}
}

// checkPointer checks what Recv and Get decode into before they take a
// message.
func checkPointer(v any) error {
	if rv := reflect.ValueOf(v); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("mp: Recv and Get decode into a non-nil pointer, not %T", v)
	}
	return nil
}
