// Package spawn is the bootstrap protocol between an mp parent and the child
// it re-executes: what the parent sends, how a child recognises itself, and
// what the child reports back. It is the analogue of CPython's
// multiprocessing/spawn.py. Most programs never use it directly: package mp
// speaks it on both ends.
//
// # Channels
//
// A child is given two inherited pipes and an environment marker naming them:
//
//   - the boot pipe, parent to child: one [KindBoot] frame carrying a [Boot].
//     The parent then keeps its end open and writes nothing more: the pipe is
//     the child's lifeline, and end of file on it means the parent has died.
//   - the report pipe, child to parent: an empty [KindStarted] frame when
//     the target is about to run, then at most one [KindReport] frame
//     carrying a [Report]. Whatever follows them, or stands in their place,
//     is the Go runtime's crash output (debug.SetCrashOutput), returned to
//     the parent as text. A child that exits without a KindStarted frame
//     never reached its target (it did not call mp.Main, say).
//
// The work itself (target, arguments, carried globals) never travels in argv
// or the environment, which other users of the machine can read.
//
// # Recognition
//
// The marker alone does not make a process a child: the boot pipe must exist,
// and its first frame must carry the magic, the protocol version and the
// nonce that the marker names. A stray marker in an environment (copied by a
// script, say) leaves the program running as an ordinary parent.
package spawn

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// EnvVar is the environment variable that marks a process as a possible mp
// child. Its value is "v1:BOOT:REPORT:NONCE", where BOOT and REPORT are the
// inherited descriptors (Unix) or handles (Windows) of the two pipes.
const EnvVar = "GO_MP_CHILD"

// Version is the protocol version; parent and child are the same binary, so
// a mismatch means the marker did not come from this build.
const Version = 1

// MaxFrame bounds the payload of one frame, so that garbage on a pipe cannot
// make the reader allocate without limit.
const MaxFrame = 1 << 30

// Frame kinds.
const (
	KindBoot    byte = 'B'
	KindReport  byte = 'R'
	KindStarted byte = 'S'
)

// magic opens every frame: 4 bytes of magic, one kind byte, a 4-byte
// big-endian payload length.
var magic = [4]byte{0, 'm', 'p', Version}

const headerLen = 9

// ErrNotChild reports that this process carries no usable mp bootstrap.
var ErrNotChild = errors.New("mp: not an mp child process")

// ErrBadFrame reports a frame that is not of this protocol.
var ErrBadFrame = errors.New("mp: malformed bootstrap frame")

// ErrNonce reports a bootstrap meant for another process.
var ErrNonce = errors.New("mp: bootstrap nonce does not match the marker")

// Marker is the parsed value of [EnvVar].
type Marker struct {
	Boot, Report uintptr
	Nonce        string
}

// String formats m as the value of [EnvVar].
func (m Marker) String() string {
	return fmt.Sprintf("v%d:%d:%d:%s", Version, m.Boot, m.Report, m.Nonce)
}

// ParseMarker parses the value of [EnvVar].
func ParseMarker(s string) (Marker, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 4 || parts[0] != "v"+strconv.Itoa(Version) || parts[3] == "" {
		return Marker{}, fmt.Errorf("%w: bad marker %q", ErrNotChild, s)
	}
	boot, err1 := strconv.ParseUint(parts[1], 10, 64)
	report, err2 := strconv.ParseUint(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return Marker{}, fmt.Errorf("%w: bad marker %q", ErrNotChild, s)
	}
	return Marker{Boot: uintptr(boot), Report: uintptr(report), Nonce: parts[3]}, nil
}

// Boot is what the parent sends a child: everything it needs to run its
// target.
type Boot struct {
	Nonce string // must equal the marker's nonce

	Target string // registered name of the target
	Args   []byte // gob-encoded arguments, or a Runner's fields

	Name     string // the child's process name
	Identity []int  // Python's _identity: 1-based positions from the main process down
	Daemon   bool
	Method   string

	ParentPID  int
	ParentName string
	AuthKey    []byte

	Globals map[string][]byte // Fork only: registered globals as of Start

	// Files are the descriptors (Unix) or handle values (Windows), as the
	// child sees them, of the files the parent passed along with the
	// arguments: the pipes and shared memory of the connections and queues
	// among them. Args refer to them by index.
	Files []uint64
}

// Report is what a child sends back when its target has finished, or when it
// cannot run it.
type Report struct {
	Code    int    // exit code the child is about to exit with
	Err     string // error returned by the target (or a bootstrap failure)
	ErrType string // Go type of that error, as %T prints it
	Panic   string // panic value, as %v prints it; empty when none
	Stack   string // goroutine stack of the panicking goroutine
	Guard   bool   // the child reached Start before mp.Main (Err explains)
	Boot    bool   // the child could not run its target (Err explains)

	// Spills are the queue items the child put but could not write before
	// it exited, because no one read: the parent puts them on the queue for
	// it, so that a parent that joins a child before getting what it put
	// neither hangs nor loses items (Python's bpo-29797 deadlock).
	Spills []Spill

	// Lost counts the queue items the child, or its descendants, could
	// not hand over; the parent's Join reports them.
	Lost int
}

// Spill is what a child hands its parent for one queue.
type Spill struct {
	Queue  []byte // the queue's identity
	Frames []byte // the items, each a 4-byte big-endian length and the encoded value
}

// WriteFrame writes one frame of the given kind.
func WriteFrame(w io.Writer, kind byte, payload []byte) error {
	if len(payload) > MaxFrame {
		return fmt.Errorf("mp: bootstrap frame of %d bytes exceeds %d", len(payload), MaxFrame)
	}
	buf := make([]byte, headerLen+len(payload))
	copy(buf, magic[:])
	buf[4] = kind
	binary.BigEndian.PutUint32(buf[5:headerLen], uint32(len(payload)))
	copy(buf[headerLen:], payload)
	_, err := w.Write(buf)
	return err
}

// ReadFrame reads one frame. It returns io.EOF when r ends before the first
// byte, and an error wrapping [ErrBadFrame] for anything not of this protocol
// or over max bytes.
func ReadFrame(r io.Reader, max int) (kind byte, payload []byte, err error) {
	var h [headerLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return 0, nil, fmt.Errorf("%w: truncated header", ErrBadFrame)
		}
		return 0, nil, err
	}
	if !bytes.Equal(h[:4], magic[:]) {
		return 0, nil, fmt.Errorf("%w: bad magic", ErrBadFrame)
	}
	n := binary.BigEndian.Uint32(h[5:])
	if uint64(n) > uint64(max) {
		return 0, nil, fmt.Errorf("%w: %d-byte payload exceeds %d", ErrBadFrame, n, max)
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, fmt.Errorf("%w: truncated payload: %v", ErrBadFrame, err)
	}
	return h[4], payload, nil
}

// IsFrame reports whether b begins with a frame header.
func IsFrame(b []byte) bool {
	return len(b) >= headerLen && bytes.Equal(b[:4], magic[:])
}

// Encode gob-encodes v.
func Encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Decode gob-decodes b into v.
func Decode(b []byte, v any) error {
	return gob.NewDecoder(bytes.NewReader(b)).Decode(v)
}

// WriteBoot sends b as a [KindBoot] frame.
func WriteBoot(w io.Writer, b *Boot) error {
	p, _ := b.MarshalBinary()
	return WriteFrame(w, KindBoot, p)
}

// ReadBoot reads the [KindBoot] frame and checks it against the marker's
// nonce.
func ReadBoot(r io.Reader, nonce string) (*Boot, error) {
	kind, p, err := ReadFrame(r, MaxFrame)
	if err != nil {
		return nil, fmt.Errorf("reading bootstrap: %w", err)
	}
	if kind != KindBoot {
		return nil, fmt.Errorf("%w: first frame is %q, not a bootstrap", ErrBadFrame, kind)
	}
	var b Boot
	if err := b.UnmarshalBinary(p); err != nil {
		return nil, fmt.Errorf("decoding bootstrap: %w", err)
	}
	if b.Nonce != nonce {
		return nil, ErrNonce
	}
	return &b, nil
}

// WriteReport sends r as a [KindReport] frame.
func WriteReport(w io.Writer, r *Report) error {
	p, _ := r.MarshalBinary()
	return WriteFrame(w, KindReport, p)
}

// ParseReport splits what the parent read from the report pipe: whether the
// child started its target, its report (nil if none came), and any crash
// output around them.
func ParseReport(b []byte) (started bool, rep *Report, crash string) {
	r := bytes.NewReader(b)
	for r.Len() > 0 {
		rest := b[len(b)-r.Len():]
		if !IsFrame(rest) {
			break
		}
		kind, p, err := ReadFrame(r, len(rest))
		if err != nil {
			return started, rep, string(rest)
		}
		switch kind {
		case KindStarted:
			started = true
		case KindReport:
			var x Report
			if err := x.UnmarshalBinary(p); err != nil {
				return started, rep, string(rest)
			}
			rep = &x
		}
	}
	return started, rep, string(b[len(b)-r.Len():])
}
