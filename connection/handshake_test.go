package connection

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/go-mp/mp"
)

// peer is a stream whose other end has sent in and reads nothing back.
type peer struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (p *peer) Read(b []byte) (int, error)  { return p.in.Read(b) }
func (p *peer) Write(b []byte) (int, error) { return p.out.Write(b) }
func (p *peer) Close() error                { return nil }

// frame encodes msg as a frame.
func frame(msg []byte) []byte {
	return append([]byte{byte(len(msg) >> 24), byte(len(msg) >> 16), byte(len(msg) >> 8), byte(len(msg))}, msg...)
}

// FuzzHandshake feeds what an unauthenticated peer might send to both
// sides of the handshake: either the handshake fails with an error
// wrapping mp.ErrAuth, or the bytes held the right answers (which a fuzzer
// cannot forge without the key); nothing panics, and a side allocates no
// more than its read buffer and a few small messages, whatever the frames
// announce.
func FuzzHandshake(f *testing.F) {
	for _, legacy := range []bool{false, true} {
		f.Add([]byte{}, legacy)
		f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3}, legacy)
		f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 0}, legacy)
		f.Add(frame(bytes.Repeat([]byte{0}, 32)), legacy)
		f.Add(frame(append([]byte("{sha256}"), make([]byte, 32)...)), legacy)
		f.Add(frame(append([]byte("{md5}"), make([]byte, 16)...)), legacy)
		f.Add(frame(make([]byte, 16)), legacy)
		f.Add(append(frame(append([]byte("#CHALLENGE#"), make([]byte, 20)...)), frame(welcome)...), legacy)
		f.Add(append(frame(append([]byte("#CHALLENGE#{sha3_384}"), make([]byte, 40)...)), frame(welcome)...), legacy)
		f.Add(frame([]byte("#WELCOME#")), legacy)
	}
	f.Fuzz(func(t *testing.T, in []byte, legacy bool) {
		for _, side := range []string{"serve", "connect"} {
			p := &peer{in: bytes.NewReader(in)}
			c := mp.NewConn(p)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			var err error
			if side == "serve" {
				err = auth{[]byte("key"), legacy}.serve(c)
			} else {
				err = auth{[]byte("key"), legacy}.connect(c)
			}
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatalf("%s: authenticated a peer that cannot know the key: %q", side, in)
			}
			if !errors.Is(err, mp.ErrAuth) {
				t.Fatalf("%s: %v does not wrap mp.ErrAuth", side, err)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 256<<10 {
				t.Fatalf("%s: allocated %d bytes for %d bytes of input", side, grew, len(in))
			}
		}
	})
}

// TestHandshakeBothWays: serve and connect agree on the same key, and on
// nothing else.
func TestHandshakeBothWays(t *testing.T) {
	for _, keys := range [][2]string{{"k", "k"}, {"k", "other"}} {
		a, b := pipeStreams()
		ca, cb := mp.NewConn(a), mp.NewConn(b)
		done := make(chan error, 1)
		go func() { done <- auth{[]byte(keys[0]), false}.serve(ca) }()
		errB := auth{[]byte(keys[1]), false}.connect(cb)
		if keys[0] != keys[1] {
			a.Close()
		}
		errA := <-done
		ca.Close()
		cb.Close()
		if want := keys[0] == keys[1]; (errA == nil) != want || (errB == nil) != want {
			t.Errorf("keys %q: serve %v, connect %v", keys, errA, errB)
		}
	}
}

// stream is one end of two io.Pipes.
type stream struct {
	io.Reader
	io.WriteCloser
}

// pipeStreams returns two connected in-memory streams.
func pipeStreams() (io.ReadWriteCloser, io.ReadWriteCloser) {
	ar, bw := io.Pipe()
	br, aw := io.Pipe()
	return stream{ar, aw}, stream{br, bw}
}
