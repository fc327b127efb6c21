package mp_test

import (
	"testing"

	"github.com/go-mp/mp"
)

// FuzzSharedDecode: the decoders of Value, Array and SharedMemory never
// panic on garbage; a Value or Array decodes from nothing that no Start
// wrote (no file was passed to this process), and a SharedMemory only
// from the name of a block that exists.
func FuzzSharedDecode(f *testing.F) {
	f.Add([]byte{1, 7})
	f.Add(append(append([]byte{1, 7}, make([]byte, 16)...), 72, 0))
	f.Add(append(append([]byte{1, 8}, make([]byte, 16)...), 0x80, 1, 0, 1, 2))
	f.Add([]byte("\x01mp_0123456789abcdef"))
	f.Add([]byte("\x01../x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, v := range []interface{ UnmarshalBinary([]byte) error }{
			new(mp.Value[int64]), new(mp.RawValue[int8]), new(mp.Array[float64]), new(mp.RawArray[uint16]),
		} {
			if err := v.UnmarshalBinary(b); err == nil {
				t.Fatalf("%T decoded %x", v, b)
			}
		}
		var m mp.SharedMemory
		if err := m.UnmarshalBinary(b); err == nil {
			// Only an existing block's name: it is opened.
			if m.Size() <= 0 || len(m.Buf()) != m.Size() {
				t.Fatalf("decoded %x into %v", b, &m)
			}
			_ = m.Close()
		}
	})
}
