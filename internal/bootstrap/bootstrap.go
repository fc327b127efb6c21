// Package bootstrap is the protocol between an mp parent and the child it
// re-executes: how a child recognises itself, what the parent sends it, and
// what the child reports back. Package mp speaks it on both ends; package
// spawn is its public face (which program is re-executed).
//
// # Channels
//
// A child is given two channels and an environment marker naming them:
//
//   - the boot channel, parent to child: one [KindBoot] frame carrying a
//     [Boot], then the files that Boot.Passed and Boot.Stdio announce (see
//     package handles). The parent then keeps its end open and writes
//     nothing more but, on Windows, a [Terminate] byte to ask a child with
//     a grace period to stop: the channel is the child's lifeline, and end
//     of file on it means the parent has died.
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
// # Waiting children
//
// A child started ahead of time (mp's Forkserver start method) is sent a
// [KindWait] frame carrying the nonce in place of the Boot. Once it has
// read it, it answers with an empty [KindWaiting] frame on the report pipe
// and waits, with no time limit, for the Boot, which the parent sends when
// it has work for it: from then on the channels are a child's as above.
// End of file on the boot channel before the Boot means the parent let the
// child go, or died: the child exits at once, having run nothing.
//
// # Recognition
//
// The marker alone does not make a process a child: the boot channel must
// exist, and its first frame must carry the magic, the protocol version and
// the nonce that the marker names. A stray marker in an environment (copied
// by a script, say) leaves the program running as an ordinary parent.
package bootstrap

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// EnvVar is the environment variable that marks a process as a possible mp
// child. Its value is "v2:BOOT:REPORT:NONCE", where BOOT and REPORT are the
// inherited descriptors (Unix) or handles (Windows) of the two channels.
const EnvVar = "GO_MP_CHILD"

// Version is the protocol version; parent and child are the same program,
// so a mismatch means the marker did not come from this build.
const Version = 2

// MaxFrame bounds the payload of one frame, so that garbage on a channel
// cannot make the reader allocate without limit. A parent checks its Boot
// against it before it creates the child.
const MaxFrame = 1 << 30

// Frame kinds.
const (
	KindBoot    byte = 'B'
	KindReport  byte = 'R'
	KindStarted byte = 'S'
	KindHandles byte = 'H' // Windows: the handle values of Boot.Passed (package handles)
	KindWait    byte = 'W' // to a child started ahead of time: its nonce; wait for the Boot
	KindWaiting byte = 'w' // from such a child, on the report pipe: it waits for its Boot
)

// Terminate is the byte a parent writes on the lifeline, after the
// bootstrap, to ask a child with a grace period to stop: Windows'
// graceful Terminate, for want of a signal (Unix sends SIGTERM).
const Terminate byte = 'T'

// magic opens every frame: 4 bytes of magic, one kind byte, a 4-byte
// big-endian payload length.
var magic = [4]byte{0, 'm', 'p', Version}

// HeaderLen is the length of a frame header.
const HeaderLen = 9

// ErrNotChild reports that this process carries no usable mp bootstrap.
var ErrNotChild = errors.New("mp: not an mp child process")

// ErrBadFrame reports a frame that is not of this protocol.
var ErrBadFrame = errors.New("mp: malformed bootstrap frame")

// ErrNonce reports a bootstrap meant for another process.
var ErrNonce = errors.New("mp: bootstrap nonce does not match the marker")

// Marker is the parsed value of [EnvVar].
type Marker struct {
	Boot, Report uintptr // the channels, as descriptors (Unix) or handle values (Windows)
	Nonce        string  // what the Boot frame must carry
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
	Args   []byte // encoded arguments, or a Runner's fields

	Name     string // the child's process name
	Identity []int  // Python's _identity: 1-based positions from the main process down
	Daemon   bool   // the child is a daemon process
	Grace    int64  // the child's grace period, in nanoseconds (Process.GracePeriod)
	Quiet    bool   // the child prints nothing when its target fails
	QuietAll bool   // the parent's mp.SetQuiet, which the child inherits
	Method   string // the start method: "spawn", "fork" or "forkserver"

	ParentPID  int    // the parent's process ID
	ParentName string // the parent's process name
	AuthKey    []byte // the process tree's authentication key

	Globals map[string][]byte // Fork only: registered globals as of Start

	// Passed announces the files that follow this frame on the boot
	// channel (package handles): those of the connections, queues and
	// other passable values among the arguments and globals, which refer
	// to them by identity.
	Passed []Passed

	LogStderr bool // the parent called mp.LogToStderr: the child does too,
	LogLevel  int  // at this slog level

	// Stdio says which of the child's standard files (0, 1, 2) are
	// replaced, before the target runs, by files that follow those of
	// Passed on the boot channel, in that order: a child started ahead of
	// time was started with the standard files of its parent as they were
	// then (Forkserver, on Unix).
	Stdio [3]bool
}

// Passed announces the files of one passable value: its identity, and how
// many of the files that follow the Boot frame are its.
type Passed struct {
	ID [16]byte // the value's identity
	N  int      // how many files are its
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
	Frames []byte // the items, as wire frames (a 4-byte big-endian length and the encoded value each)
}

// AppendHeader appends the header of a frame of kind with n payload bytes.
func AppendHeader(dst []byte, kind byte, n int) []byte {
	dst = append(dst, magic[:]...)
	dst = append(dst, kind)
	return binary.BigEndian.AppendUint32(dst, uint32(n))
}

// WriteFrame writes one frame of the given kind.
func WriteFrame(w io.Writer, kind byte, payload []byte) error {
	if len(payload) > MaxFrame {
		return fmt.Errorf("mp: bootstrap frame of %d bytes exceeds %d", len(payload), MaxFrame)
	}
	buf := make([]byte, 0, HeaderLen+len(payload))
	buf = AppendHeader(buf, kind, len(payload))
	_, err := w.Write(append(buf, payload...))
	return err
}

// ReadFrame reads one frame. It returns io.EOF when r ends before the first
// byte, and an error wrapping [ErrBadFrame] for anything not of this protocol
// or over max bytes. Memory is allocated as the payload arrives, not on the
// header's word.
func ReadFrame(r io.Reader, max int) (kind byte, payload []byte, err error) {
	var h [HeaderLen]byte
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
	var buf bytes.Buffer
	if k, err := io.CopyN(&buf, r, int64(n)); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, fmt.Errorf("%w: truncated payload (%d of %d bytes): %w", ErrBadFrame, k, n, err)
	}
	return h[4], buf.Bytes(), nil
}

// IsFrame reports whether b begins with a frame header.
func IsFrame(b []byte) bool {
	return len(b) >= HeaderLen && bytes.Equal(b[:4], magic[:])
}

// EncodeBoot returns b as a [KindBoot] frame, header included, or an error
// if it exceeds max bytes (at most [MaxFrame]).
func EncodeBoot(b *Boot, max int) ([]byte, error) {
	p := b.appendTo(AppendHeader(make([]byte, 0, HeaderLen+128+len(b.Args)), KindBoot, 0))
	n := len(p) - HeaderLen
	if n > min(max, MaxFrame) {
		return nil, fmt.Errorf("its bootstrap is %d bytes, over the limit of %d", n, min(max, MaxFrame))
	}
	binary.BigEndian.PutUint32(p[5:HeaderLen], uint32(n))
	return p, nil
}

// WriteBoot sends b as a [KindBoot] frame.
func WriteBoot(w io.Writer, b *Boot) error {
	p, err := EncodeBoot(b, MaxFrame)
	if err != nil {
		return fmt.Errorf("mp: %w", err)
	}
	_, err = w.Write(p)
	return err
}

// ReadBoot reads the [KindBoot] frame and checks it against the marker's
// nonce.
func ReadBoot(r io.Reader, nonce string) (*Boot, error) {
	b, wait, err := ReadFirst(r, nonce)
	if err == nil && wait {
		err = fmt.Errorf("%w: a wait frame where the bootstrap belongs", ErrBadFrame)
	}
	return b, err
}

// WriteWait sends a [KindWait] frame carrying nonce: the child, started
// ahead of time, waits for its Boot.
func WriteWait(w io.Writer, nonce string) error {
	return WriteFrame(w, KindWait, []byte(nonce))
}

// ReadFirst reads the first frame on the boot channel, and checks it
// against the marker's nonce: either the [KindBoot] frame (wait is false)
// or a [KindWait] frame (wait is true, the Boot nil), after which the Boot
// follows, to be read with ReadBoot.
func ReadFirst(r io.Reader, nonce string) (b *Boot, wait bool, err error) {
	kind, p, err := ReadFrame(r, MaxFrame)
	if err != nil {
		return nil, false, fmt.Errorf("reading bootstrap: %w", err)
	}
	switch kind {
	case KindWait:
		if string(p) != nonce {
			return nil, false, ErrNonce
		}
		return nil, true, nil
	case KindBoot:
	default:
		return nil, false, fmt.Errorf("%w: first frame is %q, not a bootstrap", ErrBadFrame, kind)
	}
	b, err = decodeBoot(p, nonce)
	return b, false, err
}

// decodeBoot decodes a Boot and checks it against the nonce.
func decodeBoot(p []byte, nonce string) (*Boot, error) {
	var b Boot
	if err := b.UnmarshalBinary(p); err != nil {
		return nil, fmt.Errorf("decoding bootstrap: %w", err)
	}
	if b.Nonce != nonce {
		return nil, ErrNonce
	}
	return &b, nil
}

// WriteWaiting sends the empty [KindWaiting] frame: the child waits for its
// Boot.
func WriteWaiting(w io.Writer) error { return WriteFrame(w, KindWaiting, nil) }

// ReadWaiting consumes the [KindWaiting] frame at the head of r, if that is
// what is there, and reports whether it was; anything else is left for
// ReadReport. It waits until r holds a frame header or ends.
func ReadWaiting(r *bufio.Reader) bool {
	h, _ := r.Peek(HeaderLen)
	if !IsFrame(h) || h[4] != KindWaiting || binary.BigEndian.Uint32(h[5:]) != 0 {
		return false
	}
	_, _ = r.Discard(HeaderLen)
	return true
}

// WriteReport sends r as a [KindReport] frame.
func WriteReport(w io.Writer, r *Report) error {
	p, _ := r.MarshalBinary()
	return WriteFrame(w, KindReport, p)
}

// ReadReport reads what a child writes on its report pipe, until end of
// file or an error: whether the child started its target, its report (nil
// if none came), and the crash output around them, of which it keeps the
// first maxCrash bytes and discards the rest. Frames are read whole,
// however large (a report carries what a child hands over at exit); only
// the crash text is capped. A frame cut short by the child's death is
// crash output too. The error is that of r, if r failed before its end.
func ReadReport(r io.Reader, maxCrash int) (started bool, rep *Report, crash string, err error) {
	br := bufio.NewReader(r)
	for {
		h, perr := br.Peek(HeaderLen)
		if !IsFrame(h) {
			if len(h) == 0 && perr == io.EOF {
				return started, rep, "", nil
			}
			break
		}
		var head [HeaderLen]byte
		copy(head[:], h)
		_, _ = br.Discard(HeaderLen)
		n := binary.BigEndian.Uint32(head[5:])
		var p bytes.Buffer
		var cerr error
		if n <= MaxFrame {
			_, cerr = io.CopyN(&p, br, int64(n))
		}
		var x Report
		if n > MaxFrame || cerr != nil || (head[4] == KindReport && x.UnmarshalBinary(p.Bytes()) != nil) {
			// Over the limit, cut short or garbled: it is crash output.
			if cerr == io.EOF {
				cerr = nil
			}
			text, err := readCrash(io.MultiReader(bytes.NewReader(head[:]), &p, br), maxCrash)
			return started, rep, text, errors.Join(cerr, err)
		}
		switch head[4] {
		case KindStarted:
			started = true
		case KindReport:
			rep = &x
		}
	}
	crash, err = readCrash(br, maxCrash)
	return started, rep, crash, err
}

// readCrash reads r to its end, keeping the first max bytes.
func readCrash(r io.Reader, max int) (string, error) {
	var b strings.Builder
	_, err := io.Copy(&b, io.LimitReader(r, int64(max)))
	if err == nil {
		_, err = io.Copy(io.Discard, r)
	}
	return b.String(), err
}

// ParseReport is ReadReport of b, with no cap on the crash text.
func ParseReport(b []byte) (started bool, rep *Report, crash string) {
	started, rep, crash, _ = ReadReport(bytes.NewReader(b), len(b))
	return started, rep, crash
}
