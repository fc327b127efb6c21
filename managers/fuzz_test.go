package managers

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/go-mp/mp/internal/wire"
)

// FuzzDecode feeds the decoders that read what a peer sent (requests,
// replies, encoded proxies, numbers to add, and the search for proxies in
// stored values) with arbitrary bytes: none may panic, and a request that
// decodes encodes back to the same request.
func FuzzDecode(f *testing.F) {
	var w wire.Writer
	(&request{op: opCall, releases: []uint64{1, 2}, id: 3, name: "set", ints: []int64{-1, 5}, vals: [][]byte{{wire.Marker, 1}, {}}}).encode(&w)
	f.Add(w.B)
	w = wire.Writer{}
	(&response{ints: []int64{7}, vals: [][]byte{[]byte("x")}}).encode(&w)
	f.Add(w.B)
	w = wire.Writer{}
	encodeError(&w, &RemoteError{TypeID: "T", Method: "M", Err: "e", Panic: "p", Stack: "s"})
	f.Add(w.B)
	r := &ref{family: "unix", address: "/tmp/x", nonce: 9, id: 4, typeid: "dict", h: &hold{}}
	b, _ := r.marshalEncoding()
	f.Add(b)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if q, err := decodeRequest(b); err == nil {
			var w wire.Writer
			q.encode(&w)
			q2, err := decodeRequest(w.B)
			if err != nil {
				t.Fatalf("a request re-encoded does not decode: %v", err)
			}
			if !reflect.DeepEqual(normal(q), normal(q2)) {
				t.Fatalf("a request re-encoded decodes as another: %+v, %+v", q, q2)
			}
		}
		_, _ = decodeReply(b)
		_, _ = unmarshalRef(b, "")
		_ = proxiesIn(b, 9)
		_ = proxiesIn(append(bytes.Clone(proxyMagic), b...), 9)
		for _, kind := range []int64{numSigned, numUnsigned, numFloat} {
			_, _ = addNumbers(b, b, kind, 64)
			_, _ = addNumbers(nil, b, kind, 8)
		}
	})
}

// normal makes empty and nil slices alike, for comparing requests.
func normal(q *request) *request {
	c := *q
	if len(c.releases) == 0 {
		c.releases = nil
	}
	if len(c.ints) == 0 {
		c.ints = nil
	}
	if len(c.vals) == 0 {
		c.vals = nil
	}
	for i, v := range c.vals {
		if len(v) == 0 {
			c.vals[i] = nil
		}
	}
	return &c
}
