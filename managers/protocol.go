package managers

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/internal/wire"
)

// The protocol between a proxy's process and the manager's server. Each
// connection is authenticated by package connection, then carries one
// request and its reply at a time, each one message (a frame). The first
// request of a connection is a hello naming the session it belongs to (see
// session in server.go); the first connection of a session is its primary,
// whose end ends the session.
//
// A request is an op byte, the IDs of the objects the session lets go of
// since its last request (piggybacked, so that letting go costs no round
// trip), an object ID, a name (a method or a type id), integers (indices,
// timeouts, kinds) and values (each one value message of internal/wire,
// which the server stores as it is, or decodes for a registered type's
// method). A reply is a status byte, then integers and values, or an
// error. Every count is checked against the bytes left before anything is
// allocated for it (wire.Reader).

// protocolVersion is checked by the hello.
const protocolVersion = 1

// Ops.
const (
	opHello    = 1 // ints: version, primary; vals: session ID; reply ints: server nonce
	opCreate   = 2 // name: type id; vals[0]: object name; ints, vals[1:]: the constructor's
	opHold     = 3 // id, name: type id: the session holds the object (a decoded proxy)
	opCall     = 4 // id, name: method
	opRelease  = 5 // nothing but the piggybacked releases
	opShutdown = 6 // stop the server
	opCancel   = 7 // vals[0]: session ID; ints[0]: the call to cancel
)

// Reply statuses.
const (
	statusOK  = 0
	statusErr = 1
)

// request is a request, decoded or to be encoded.
type request struct {
	op       byte
	releases []uint64
	id       uint64
	name     string
	call     uint64 // a number of the session's, for opCancel
	ints     []int64
	vals     [][]byte
}

func (q *request) encode(w *wire.Writer) {
	w.Byte(q.op)
	w.Uint(uint64(len(q.releases)))
	for _, id := range q.releases {
		w.Uint(id)
	}
	w.Uint(q.id)
	w.String(q.name)
	w.Uint(q.call)
	w.Uint(uint64(len(q.ints)))
	for _, n := range q.ints {
		w.Int(n)
	}
	w.Uint(uint64(len(q.vals)))
	for _, v := range q.vals {
		w.Bytes(v)
	}
}

// decodeRequest decodes a request; vals share b.
func decodeRequest(b []byte) (*request, error) {
	r := wire.NewReader(b)
	q := &request{op: r.Byte()}
	if n := r.Count(1); n > 0 {
		q.releases = make([]uint64, n)
		for i := range q.releases {
			q.releases[i] = r.Uint()
		}
	}
	q.id = r.Uint()
	q.name = r.String()
	q.call = r.Uint()
	q.ints = readInts(r)
	q.vals = readVals(r)
	if err := r.End(); err != nil {
		return nil, err
	}
	return q, nil
}

func readInts(r *wire.Reader) []int64 {
	n := r.Count(1)
	if n == 0 {
		return nil
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = r.Int()
	}
	return out
}

func readVals(r *wire.Reader) [][]byte {
	n := r.Count(1)
	if n == 0 {
		return nil
	}
	out := make([][]byte, n)
	for i := range out {
		out[i] = r.Bytes()
	}
	return out
}

// response is a reply's content.
type response struct {
	ints []int64
	vals [][]byte
}

func (p *response) encode(w *wire.Writer) {
	w.Byte(statusOK)
	w.Uint(uint64(len(p.ints)))
	for _, n := range p.ints {
		w.Int(n)
	}
	w.Uint(uint64(len(p.vals)))
	for _, v := range p.vals {
		w.Bytes(v)
	}
}

// Error codes: the sentinel a client's error wraps.
const (
	codePlain = iota // wraps nothing
	codeObjectGone
	codeKeyNotFound
	codeIndex
	codeNotRegistered
	codeNotExposed
	codeNotNumber
	codeOwnerDead
	codeNotOwner
	codeTooManyReleases
	codeBrokenBarrier
	codeEmpty
	codeFull
	codeTaskDone
	codeArgs // before codeBadMessage: argument errors wrap both
	codeBadMessage
	codeManagerGone
	codeCanceled
	codeTooLarge
	codeRemote // a *RemoteError
	codeCount
)

// sentinels maps codes to the errors they wrap.
var sentinels = [codeCount]error{
	codeObjectGone:      ErrObjectGone,
	codeKeyNotFound:     ErrKeyNotFound,
	codeIndex:           ErrIndex,
	codeNotRegistered:   ErrNotRegistered,
	codeNotExposed:      ErrNotExposed,
	codeNotNumber:       ErrNotNumber,
	codeOwnerDead:       ErrOwnerDead,
	codeNotOwner:        ErrNotOwner,
	codeTooManyReleases: ErrTooManyReleases,
	codeBrokenBarrier:   ErrBrokenBarrier,
	codeEmpty:           mp.ErrEmpty,
	codeFull:            mp.ErrFull,
	codeTaskDone:        mp.ErrTaskDone,
	codeBadMessage:      mp.ErrBadMessage,
	codeArgs:            mp.ErrArgs,
	codeManagerGone:     ErrManagerGone,
	codeCanceled:        context.Canceled,
	codeTooLarge:        mp.ErrMessageTooLarge,
}

// codeOf returns the code of an error the server made.
func codeOf(err error) int {
	for c, s := range sentinels {
		if s != nil && errors.Is(err, s) {
			return c
		}
	}
	return codePlain
}

// encodeError writes the reply for err.
func encodeError(w *wire.Writer, err error) {
	w.Byte(statusErr)
	var re *RemoteError
	if errors.As(err, &re) {
		w.Uint(codeRemote)
		w.String(re.TypeID)
		w.String(re.Method)
		w.String(re.Err)
		w.String(re.ErrType)
		w.String(re.Panic)
		w.String(re.Stack)
		var cause []byte
		if re.cause != nil {
			// A registered error type crosses as itself; anything else
			// only as its text.
			cause, _ = wire.Encode(nil, errorBox{re.cause})
		}
		w.Bytes(cause)
		return
	}
	w.Uint(uint64(codeOf(err)))
	w.String(err.Error())
}

// errorBox carries a method's error inside an interface, so that a type
// registered with mp.RegisterType decodes as itself.
type errorBox struct{ Err error }

// codedError is an error the server reported: its text, and the sentinel
// its code names.
type codedError struct {
	msg      string
	sentinel error
}

func (e *codedError) Error() string { return e.msg }
func (e *codedError) Unwrap() error { return e.sentinel }

// decodeReply decodes a reply: its content, or the error it carries.
func decodeReply(b []byte) (*response, error) {
	r := wire.NewReader(b)
	switch r.Byte() {
	case statusOK:
		p := &response{ints: readInts(r), vals: readVals(r)}
		if err := r.End(); err != nil {
			return nil, err
		}
		return p, nil
	case statusErr:
	default:
		if r.Err == nil {
			r.Fail("reply status")
		}
		return nil, r.Err
	}
	code := r.Uint()
	if code == codeRemote {
		re := &RemoteError{TypeID: r.String(), Method: r.String(), Err: r.String(), ErrType: r.String(), Panic: r.String(), Stack: r.String()}
		if cause := r.Bytes(); len(cause) > 0 {
			var box errorBox
			if wire.Decode(cause, &box) == nil {
				re.cause = box.Err
			}
		}
		if err := r.End(); err != nil {
			return nil, err
		}
		return nil, re
	}
	msg := r.String()
	if err := r.End(); err != nil {
		return nil, err
	}
	if code >= codeCount {
		code = codePlain
	}
	return nil, &codedError{msg: msg, sentinel: sentinels[code]}
}

// errorf makes an error for the server to report: it wraps sentinel.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}
