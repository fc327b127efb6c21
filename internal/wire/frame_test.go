package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"testing"
)

// TestHeaders checks the headers against Python's framing
// (multiprocessing.connection.Connection._send_bytes): struct.pack("!i",
// n) up to 2 GiB - 1, and struct.pack("!i", -1) + struct.pack("!Q", n)
// above.
func TestHeaders(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{0, "00000000"},
		{5, "00000005"},
		{1 << 16, "00010000"},
		{MaxShort, "7fffffff"},
		{MaxShort + 1, "ffffffff0000000080000000"},
		{1<<32 - 1, "ffffffff00000000ffffffff"},
		{1 << 40, "ffffffff0000010000000000"},
	}
	for _, tt := range tests {
		got := hex.EncodeToString(AppendHeader(nil, tt.n))
		if got != tt.want {
			t.Errorf("AppendHeader(%d) = %s, want %s", tt.n, got, tt.want)
		}
		h, err := hex.DecodeString(tt.want)
		if err != nil {
			t.Fatal(err)
		}
		var hdr [HeaderSize]byte
		n, err := ReadHeader(bytes.NewReader(h), &hdr)
		if err != nil || n != uint64(tt.n) {
			t.Errorf("ReadHeader(%s) = %d, %v, want %d", tt.want, n, err, tt.n)
		}
	}
}

// TestLongHeaderSmallPayload: Python's reader takes the long form for any
// length, so ours does too, and ValidFrames counts it.
func TestLongHeaderSmallPayload(t *testing.T) {
	in, _ := hex.DecodeString("ffffffff0000000000000005")
	in = append(in, "hello"...)
	in = AppendFrame(in, []byte("next"))
	if !ValidFrames(in) {
		t.Error("ValidFrames refuses a long header")
	}
	r := bytes.NewReader(in)
	var hdr [HeaderSize]byte
	for _, want := range []string{"hello", "next"} {
		p, err := ReadFrame(r, &hdr, 100)
		if err != nil || string(p) != want {
			t.Fatalf("ReadFrame = %q, %v, want %q", p, err, want)
		}
	}
	if _, err := ReadFrame(r, &hdr, 100); err != io.EOF {
		t.Errorf("at the end: %v, want io.EOF", err)
	}
}

// TestBadHeaders: a negative length other than -1, a long header cut
// short, a long length over the maximum.
func TestBadHeaders(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"80000000", ErrBadMessage},
		{"fffffffe", ErrBadMessage},
		{"ffffffff000000", ErrBadMessage},
		{"ffffffff", ErrBadMessage},
		{"000000", ErrBadMessage},
		{"ffffffff7fffffffffffffff", ErrMessageTooLarge},
		{"ffffffff0000000000000065", ErrMessageTooLarge},
	}
	for _, tt := range tests {
		in, _ := hex.DecodeString(tt.in)
		var hdr [HeaderSize]byte
		_, err := ReadFrame(bytes.NewReader(in), &hdr, 100)
		if !errors.Is(err, tt.want) {
			t.Errorf("ReadFrame(%s) = %v, want %v", tt.in, err, tt.want)
		}
		if ValidFrames(in) {
			t.Errorf("ValidFrames(%s) = true", tt.in)
		}
	}
}
