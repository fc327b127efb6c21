package bootstrap_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp/internal/bootstrap"
)

func sampleBoot() *bootstrap.Boot {
	return &bootstrap.Boot{
		Nonce: "n0nce", Target: "func:main.worker", Args: []byte{1, 2, 3},
		Name: "Process-1:2", Identity: []int{1, 2}, Daemon: true, Grace: 1500, Quiet: true, QuietAll: true, Method: "fork",
		ParentPID: 4242, ParentName: "Process-1", AuthKey: []byte("key"),
		Globals:   map[string][]byte{"money": {9}, "empty": {}},
		Passed:    []bootstrap.Passed{{ID: [16]byte{1, 2}, N: 3}, {ID: [16]byte{15: 9}, N: 0}},
		LogStderr: true, LogLevel: -4,
		Stdio: [3]bool{false, true, true},
	}
}

func TestBootRoundTrip(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	want := sampleBoot()
	require.NoError(t, bootstrap.WriteBoot(&buf, want))
	got, err := bootstrap.ReadBoot(&buf, "n0nce")
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

func TestBootNonce(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, bootstrap.WriteBoot(&buf, sampleBoot()))
	_, err := bootstrap.ReadBoot(&buf, "other")
	assert.ErrorIs(t, err, bootstrap.ErrNonce)
}

// TestWait: a child started ahead of time reads a wait frame carrying its
// nonce, then its Boot; ReadBoot refuses the wait frame, ReadFirst one
// with another nonce. The child's answer is consumed by ReadWaiting and
// nothing else.
func TestWait(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, bootstrap.WriteWait(&buf, "n0nce"))
	require.NoError(t, bootstrap.WriteBoot(&buf, sampleBoot()))
	b, wait, err := bootstrap.ReadFirst(&buf, "n0nce")
	require.NoError(t, err)
	assert.True(t, wait)
	assert.Nil(t, b)
	b, err = bootstrap.ReadBoot(&buf, "n0nce")
	require.NoError(t, err)
	assert.Equal(t, sampleBoot(), b)

	require.NoError(t, bootstrap.WriteWait(&buf, "n0nce"))
	_, err = bootstrap.ReadBoot(&buf, "n0nce")
	assert.ErrorIs(t, err, bootstrap.ErrBadFrame, "a Boot is due")
	require.NoError(t, bootstrap.WriteWait(&buf, "n0nce"))
	_, _, err = bootstrap.ReadFirst(&buf, "other")
	assert.ErrorIs(t, err, bootstrap.ErrNonce)

	var rep bytes.Buffer
	require.NoError(t, bootstrap.WriteWaiting(&rep))
	require.NoError(t, bootstrap.WriteFrame(&rep, bootstrap.KindStarted, nil))
	br := bufio.NewReader(&rep)
	assert.True(t, bootstrap.ReadWaiting(br))
	assert.False(t, bootstrap.ReadWaiting(br), "a started frame is left for ReadReport")
	started, got, crash, err := bootstrap.ReadReport(br, 100)
	require.NoError(t, err)
	assert.True(t, started)
	assert.Nil(t, got)
	assert.Empty(t, crash)
	assert.False(t, bootstrap.ReadWaiting(bufio.NewReader(strings.NewReader("panic: in init"))))
}

func TestReadFrameRejects(t *testing.T) {
	t.Parallel()
	var good bytes.Buffer
	require.NoError(t, bootstrap.WriteFrame(&good, bootstrap.KindBoot, []byte("payload")))
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, io.EOF},
		{"short header", good.Bytes()[:5], bootstrap.ErrBadFrame},
		{"bad magic", append([]byte("GARBAGE!!"), 0), bootstrap.ErrBadFrame},
		{"truncated payload", good.Bytes()[:good.Len()-1], bootstrap.ErrBadFrame},
		{"over the limit", []byte{0, 'm', 'p', bootstrap.Version, 'B', 0xff, 0xff, 0xff, 0xff}, bootstrap.ErrBadFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := bootstrap.ReadFrame(bytes.NewReader(tt.in), 1<<20)
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

func TestParseReport(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, bootstrap.WriteFrame(&buf, bootstrap.KindStarted, nil))
	rep := &bootstrap.Report{Code: 1, Panic: "boom", Stack: "goroutine 1", Spills: []bootstrap.Spill{{Queue: []byte{1}, Frames: []byte{0, 0, 0, 1, 7}}}, Lost: 3}
	require.NoError(t, bootstrap.WriteReport(&buf, rep))
	buf.WriteString("fatal error: all goroutines are asleep")
	started, got, crash := bootstrap.ParseReport(buf.Bytes())
	assert.True(t, started)
	assert.Equal(t, rep, got)
	assert.Equal(t, "fatal error: all goroutines are asleep", crash)

	started, got, crash = bootstrap.ParseReport([]byte("panic: raw"))
	assert.False(t, started)
	assert.Nil(t, got)
	assert.Equal(t, "panic: raw", crash)
}

// TestReadReportLarge: a report larger than the crash cap (what a child
// hands over at exit travels in it) is read whole; crash text after it is
// capped, and the rest of it drained.
func TestReadReportLarge(t *testing.T) {
	t.Parallel()
	const maxCrash = 1 << 10
	big := &bootstrap.Report{Code: 1, Err: strings.Repeat("x", 3<<20),
		Spills: []bootstrap.Spill{{Queue: bytes.Repeat([]byte{7}, 1<<20), Frames: []byte{0, 0, 0, 0}}}}
	var buf bytes.Buffer
	require.NoError(t, bootstrap.WriteFrame(&buf, bootstrap.KindStarted, nil))
	require.NoError(t, bootstrap.WriteReport(&buf, big))
	buf.WriteString("fatal error: ")
	buf.Write(bytes.Repeat([]byte("y"), 10*maxCrash))
	started, rep, crash, err := bootstrap.ReadReport(iotest.OneByteReader(&buf), maxCrash)
	require.NoError(t, err)
	assert.True(t, started)
	assert.Equal(t, big, rep)
	assert.Len(t, crash, maxCrash)
	assert.True(t, strings.HasPrefix(crash, "fatal error: yyy"))
	assert.Zero(t, buf.Len(), "the rest is drained")
}

// TestReadReportCut: a frame cut short by the child's death, or one that
// does not decode, is kept as crash text, never half a report.
func TestReadReportCut(t *testing.T) {
	t.Parallel()
	var whole bytes.Buffer
	require.NoError(t, bootstrap.WriteReport(&whole, &bootstrap.Report{Code: 1, Err: "e"}))
	cut := whole.Bytes()[:whole.Len()-1]
	started, rep, crash, err := bootstrap.ReadReport(bytes.NewReader(cut), 1<<20)
	require.NoError(t, err)
	assert.False(t, started)
	assert.Nil(t, rep)
	assert.Equal(t, string(cut), crash)

	garbled := bootstrap.AppendHeader(nil, bootstrap.KindReport, 3)
	garbled = append(garbled, 0xff, 0xff, 0xff)
	_, rep, crash, err = bootstrap.ReadReport(bytes.NewReader(garbled), 1<<20)
	require.NoError(t, err)
	assert.Nil(t, rep)
	assert.Equal(t, string(garbled), crash)

	_, _, _, err = bootstrap.ReadReport(iotest.ErrReader(io.ErrClosedPipe), 1)
	assert.ErrorIs(t, err, io.ErrClosedPipe)
}

// TestEncodeBootLimit: the limit is checked on the encoded Boot.
func TestEncodeBootLimit(t *testing.T) {
	t.Parallel()
	b := sampleBoot()
	b.Args = make([]byte, 1000)
	_, err := bootstrap.EncodeBoot(b, 1000)
	assert.ErrorContains(t, err, "over the limit of 1000")
	p, err := bootstrap.EncodeBoot(b, 2000)
	require.NoError(t, err)
	got, err := bootstrap.ReadBoot(bytes.NewReader(p), b.Nonce)
	require.NoError(t, err)
	assert.Equal(t, b, got)
}

func TestMarker(t *testing.T) {
	t.Parallel()
	m := bootstrap.Marker{Boot: 3, Report: 4, Nonce: "abc"}
	got, err := bootstrap.ParseMarker(m.String())
	require.NoError(t, err)
	assert.Equal(t, m, got)
	for _, bad := range []string{"", "v2:3:4", "v1:3:4:abc", "v2:x:4:abc", "v2:3:4:"} {
		_, err := bootstrap.ParseMarker(bad)
		assert.ErrorIs(t, err, bootstrap.ErrNotChild, bad)
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
		var b bootstrap.Boot
		if err := b.UnmarshalBinary(in); err != nil {
			if !errors.Is(err, bootstrap.ErrBadFrame) {
				t.Fatalf("error %v does not wrap ErrBadFrame", err)
			}
			return
		}
		out, _ := b.MarshalBinary()
		var b2 bootstrap.Boot
		require.NoError(t, b2.UnmarshalBinary(out))
		assert.Equal(t, b, b2)
	})
}

// FuzzReport is FuzzBoot for the child's report, and feeds the same bytes
// to the report pipe's reader: it must never panic, and never return more
// crash text than its cap.
func FuzzReport(f *testing.F) {
	good, _ := (&bootstrap.Report{Code: -15, Err: "e", Panic: "p", Stack: "s", Guard: true,
		Spills: []bootstrap.Spill{{Queue: []byte("q"), Frames: []byte("\x00\x00\x00\x00")}}, Lost: 1}).MarshalBinary()
	f.Add(good)
	var stream bytes.Buffer
	_ = bootstrap.WriteFrame(&stream, bootstrap.KindStarted, nil)
	_ = bootstrap.WriteFrame(&stream, bootstrap.KindReport, good)
	stream.WriteString("fatal error: x")
	f.Add(stream.Bytes())
	f.Fuzz(func(t *testing.T, in []byte) {
		var r bootstrap.Report
		if err := r.UnmarshalBinary(in); err != nil {
			require.ErrorIs(t, err, bootstrap.ErrBadFrame)
		}
		_, _, crash, err := bootstrap.ReadReport(bytes.NewReader(in), 16)
		require.NoError(t, err)
		require.LessOrEqual(t, len(crash), 16)
		_, _, _ = bootstrap.ParseReport(in)
	})
}
