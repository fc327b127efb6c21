package mp_test

import (
	"testing"

	"github.com/go-mp/mp"
)

// FuzzSyncDecode: the decoders of the synchronisation objects' encodings
// never panic on garbage, and accept nothing that no Start wrote (no file
// was passed to this process).
func FuzzSyncDecode(f *testing.F) {
	f.Add([]byte{1, 1})
	f.Add(append(append([]byte{1, 1}, make([]byte, 16)...), 0))
	f.Add(append(append([]byte{2, 2}, make([]byte, 32)...), 2, 1, 5))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, v := range []interface{ UnmarshalBinary([]byte) error }{
			new(mp.Lock), new(mp.RLock), new(mp.Semaphore), new(mp.Event), new(mp.Condition), new(mp.Barrier),
		} {
			if err := v.UnmarshalBinary(b); err == nil {
				t.Fatalf("%T decoded %x", v, b)
			}
		}
	})
}
