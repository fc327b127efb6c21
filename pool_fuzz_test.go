package mp

import (
	"testing"

	"github.com/go-mp/mp/internal/wire"
)

// FuzzPoolResults feeds arbitrary messages, as a worker gone wrong could
// send them, to a slot holding a chunk of eight tasks: handle must accept
// them or return an error, never panic, and settle no task twice or out of
// the chunk.
func FuzzPoolResults(f *testing.F) {
	for _, m := range []*resultMsg{
		{Ready: true},
		{Seq: 1, From: 0, Count: 8, Values: mustEncode(f, []int{0, 1, 4, 9, 16, 25, 36, 49})},
		{Seq: 1, From: 0, Count: 3, Fails: []taskFail{{Pos: 1, Err: "no"}}, Values: mustEncode(f, []int{0, 4})},
		{Seq: 1, From: 2, Count: 1},
		{Seq: 2, From: 0, Count: 1},
		{Seq: 1, From: 0, Count: 9},
		{Seq: 1, From: 0, Count: 2, Fails: []taskFail{{Pos: 7}}},
		{Seq: 1, From: 0, Count: 2, Values: mustEncode(f, []string{"x"})},
	} {
		f.Add(mustEncode(f, m))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m resultMsg
		if wire.Decode(b, &m) != nil {
			return
		}
		out := newResults[int](8)
		j := &job{n: 8, out: out, stopCh: make(chan struct{})}
		w := &poolWorker{proc: &Process{Name: "fuzz"}}
		s := &slot{p: &poolCore{}, w: w}
		s.inflight = []*chunk{{sp: span{j, 0, 8}, seq: 1}}
		err := s.handle(&m)
		settled := 0
		for _, set := range out.set {
			if set {
				settled++
			}
		}
		if err != nil || m.Ready {
			if settled != 0 {
				t.Fatalf("settled %d tasks of a message it refused (%v)", settled, err)
			}
			return
		}
		if settled != m.Count {
			t.Fatalf("a message for %d tasks settled %d", m.Count, settled)
		}
		if 8-out.left != settled {
			t.Fatalf("left %d after settling %d", out.left, settled)
		}
	})
}

func mustEncode(f *testing.F, v any) []byte {
	b, err := poolEncode(v)
	if err != nil {
		f.Fatal(err)
	}
	return b
}
