package spawn_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp/spawn"
)

func sampleBoot() *spawn.Boot {
	return &spawn.Boot{
		Nonce: "n0nce", Target: "func:main.worker", Args: []byte{1, 2, 3},
		Name: "Process-1:2", Identity: []int{1, 2}, Daemon: true, Method: "fork",
		ParentPID: 4242, ParentName: "Process-1", AuthKey: []byte("key"),
		Globals: map[string][]byte{"money": {9}, "empty": {}},
		Files:   []uint64{5, 6, 1 << 40},
	}
}

func TestBootRoundTrip(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	want := sampleBoot()
	require.NoError(t, spawn.WriteBoot(&buf, want))
	got, err := spawn.ReadBoot(&buf, "n0nce")
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

func TestBootNonce(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, spawn.WriteBoot(&buf, sampleBoot()))
	_, err := spawn.ReadBoot(&buf, "other")
	assert.ErrorIs(t, err, spawn.ErrNonce)
}

func TestReadFrameRejects(t *testing.T) {
	t.Parallel()
	var good bytes.Buffer
	require.NoError(t, spawn.WriteFrame(&good, spawn.KindBoot, []byte("payload")))
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, io.EOF},
		{"short header", good.Bytes()[:5], spawn.ErrBadFrame},
		{"bad magic", append([]byte("GARBAGE!!"), 0), spawn.ErrBadFrame},
		{"truncated payload", good.Bytes()[:good.Len()-1], spawn.ErrBadFrame},
		{"over the limit", []byte{0, 'm', 'p', spawn.Version, 'B', 0xff, 0xff, 0xff, 0xff}, spawn.ErrBadFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := spawn.ReadFrame(bytes.NewReader(tt.in), 1<<20)
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

func TestParseReport(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, spawn.WriteFrame(&buf, spawn.KindStarted, nil))
	rep := &spawn.Report{Code: 1, Panic: "boom", Stack: "goroutine 1", Spills: []spawn.Spill{{Queue: []byte{1}, Frames: []byte{0, 0, 0, 1, 7}}}, Lost: 3}
	require.NoError(t, spawn.WriteReport(&buf, rep))
	buf.WriteString("fatal error: all goroutines are asleep")
	started, got, crash := spawn.ParseReport(buf.Bytes())
	assert.True(t, started)
	assert.Equal(t, rep, got)
	assert.Equal(t, "fatal error: all goroutines are asleep", crash)

	started, got, crash = spawn.ParseReport([]byte("panic: raw"))
	assert.False(t, started)
	assert.Nil(t, got)
	assert.Equal(t, "panic: raw", crash)
}

func TestMarker(t *testing.T) {
	t.Parallel()
	m := spawn.Marker{Boot: 3, Report: 4, Nonce: "abc"}
	got, err := spawn.ParseMarker(m.String())
	require.NoError(t, err)
	assert.Equal(t, m, got)
	for _, bad := range []string{"", "v1:3:4", "v2:3:4:abc", "v1:x:4:abc", "v1:3:4:"} {
		_, err := spawn.ParseMarker(bad)
		assert.ErrorIs(t, err, spawn.ErrNotChild, bad)
	}
}

// FuzzBoot feeds arbitrary bytes to the bootstrap decoder: it must return
// an error or a Boot that encodes back to the same bytes, never panic or
// allocate beyond its input.
func FuzzBoot(f *testing.F) {
	good, _ := sampleBoot().MarshalBinary()
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, in []byte) {
		var b spawn.Boot
		if err := b.UnmarshalBinary(in); err != nil {
			if !errors.Is(err, spawn.ErrBadFrame) {
				t.Fatalf("error %v does not wrap ErrBadFrame", err)
			}
			return
		}
		out, _ := b.MarshalBinary()
		var b2 spawn.Boot
		require.NoError(t, b2.UnmarshalBinary(out))
		assert.Equal(t, b, b2)
	})
}

// FuzzReport is FuzzBoot for the child's report.
func FuzzReport(f *testing.F) {
	good, _ := (&spawn.Report{Code: -15, Err: "e", Panic: "p", Stack: "s", Guard: true,
		Spills: []spawn.Spill{{Queue: []byte("q"), Frames: []byte("\x00\x00\x00\x00")}}, Lost: 1}).MarshalBinary()
	f.Add(good)
	f.Fuzz(func(t *testing.T, in []byte) {
		var r spawn.Report
		if err := r.UnmarshalBinary(in); err != nil {
			require.ErrorIs(t, err, spawn.ErrBadFrame)
		}
		_, _, _ = spawn.ParseReport(in)
	})
}
