package managers

import (
	"fmt"
	"math/big"
	"reflect"
	"strconv"

	"github.com/go-mp/mp/internal/wire"
)

// Number kinds, as a proxy's Add tells the server what its values are:
// the server stores encoded values and does not know their Go type.
const (
	numSigned   = 1 // then the width in bits, 8 to 64
	numUnsigned = 2
	numFloat    = 3
)

// numberKind returns the kind and width of numbers of type T, for Add; ok
// is false for a type that is not a number.
func numberKind[T any]() (kind, bits int64, ok bool) {
	t := reflect.TypeFor[T]()
	switch t.Kind() {
	case reflect.Int:
		return numSigned, strconv.IntSize, true
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return numSigned, int64(t.Bits()), true
	case reflect.Uint:
		return numUnsigned, strconv.IntSize, true
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return numUnsigned, int64(t.Bits()), true
	case reflect.Float32, reflect.Float64:
		return numFloat, int64(t.Bits()), true
	}
	return 0, 0, false
}

// addNumbers returns the value message of old+delta, numbers of the kind
// and width given, wrapping around as Go's arithmetic does; old nil counts
// as zero. It works on the encodings, which for numbers do not depend on
// the Go type: 5 is the same bytes as an int8 and as a uint64.
func addNumbers(old, delta []byte, kind, bits int64) ([]byte, error) {
	if kind < numSigned || kind > numFloat || bits < 8 || bits > 64 || bits&(bits-1) != 0 || kind == numFloat && bits < 32 {
		return nil, fmt.Errorf("%w: number kind %d of %d bits", ErrNotNumber, kind, bits)
	}
	d, err := number(delta)
	if err != nil {
		return nil, err
	}
	o := any(int64(0))
	if old != nil {
		if o, err = number(old); err != nil {
			return nil, err
		}
	}
	switch kind {
	case numFloat:
		x, ok1 := asFloat(o)
		y, ok2 := asFloat(d)
		if !ok1 || !ok2 {
			return nil, errorf(ErrNotNumber, "adding %v to %v as floats", d, o)
		}
		if bits == 32 {
			return wire.Encode(nil, float32(x)+float32(y))
		}
		return wire.Encode(nil, x+y)
	case numSigned:
		x, ok1 := asInt(o)
		y, ok2 := asInt(d)
		if !ok1 || !ok2 {
			return nil, errorf(ErrNotNumber, "adding %v to %v as int%d", d, o, bits)
		}
		sum := uint64(x) + uint64(y)
		shift := 64 - bits
		return wire.Encode(nil, int64(sum<<shift)>>shift) // sign-extended from bits
	default:
		x, ok1 := asUint(o)
		y, ok2 := asUint(d)
		if !ok1 || !ok2 {
			return nil, errorf(ErrNotNumber, "adding %v to %v as uint%d", d, o, bits)
		}
		sum := x + y
		if bits < 64 {
			sum &= 1<<bits - 1
		}
		return wire.Encode(nil, sum)
	}
}

// number decodes a value message holding a number: an int64, a big.Int
// (an unsigned one beyond int64) or a float64.
func number(b []byte) (any, error) {
	var v any
	if err := wire.Decode(b, &v); err != nil {
		return nil, err
	}
	switch v.(type) {
	case int64, float64, big.Int, *big.Int:
		return v, nil
	}
	return nil, errorf(ErrNotNumber, "the value is a %T", v)
}

// asInt returns an integer's bits as an int64: a big.Int in uint64's
// range as its two's complement.
func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case big.Int:
		return asInt(&n)
	case *big.Int:
		if n.IsUint64() {
			return int64(n.Uint64()), true
		}
	}
	return 0, false
}

func asUint(v any) (uint64, bool) {
	switch n := v.(type) {
	case int64:
		return uint64(n), true
	case big.Int:
		return asUint(&n)
	case *big.Int:
		if n.IsUint64() {
			return n.Uint64(), true
		}
	}
	return 0, false
}

// asFloat returns a number as a float64: an integer stored where floats
// are added counts as its value.
func asFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int64:
		return float64(n), true
	}
	return 0, false
}
