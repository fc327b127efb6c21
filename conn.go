package mp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mp/mp/internal/wire"
)

// Conn is one end of a [Pipe], or a connection made by a [Listener] or
// [Client]: Python's multiprocessing.connection.Connection. It carries
// messages; each keeps its boundaries, an empty one included.
//
// A Conn from Pipe can be given to a child process, as an argument of a
// Process or a field of a Runner, under either start method, and passed on
// from there: the child inherits the pipe. Both processes then hold the
// end; as in Python, the peer sees end of file only once every copy of the
// other end is closed, so close the ends a process does not use.
//
// A Conn is safe for concurrent use: sends are serialised with sends, and
// receives with receives.
type Conn struct {
	rf, wf *os.File // pipe ends; nil for the direction a one-way end lacks
	nc     net.Conn // a Listener's or Client's connection
	br     *bufio.Reader

	max    atomic.Int64
	closed atomic.Bool

	rmu    sync.Mutex
	hdr    [wire.HeaderSize]byte
	broken error // the stream is out of step: every receive fails so

	wmu  sync.Mutex
	wbuf []byte
}

var (
	_ io.Closer = (*Conn)(nil)
)

// Pipe returns a pair of connected Conns, like Python's
// multiprocessing.Pipe. If duplex, both ends send and receive; otherwise
// the first only receives and the second only sends, and using an end the
// other way gives ErrWrongEnd.
//
// Each direction is an OS pipe, on every OS: the fastest way between two
// processes that both Unix and Windows give to a child.
func Pipe(duplex bool) (*Conn, *Conn, error) {
	r1, w1, err := newPipe()
	if err != nil {
		return nil, nil, fmt.Errorf("mp: creating a pipe: %w", err)
	}
	if !duplex {
		return newPipeConn(r1, nil), newPipeConn(nil, w1), nil
	}
	r2, w2, err := newPipe()
	if err != nil {
		r1.Close()
		w1.Close()
		return nil, nil, fmt.Errorf("mp: creating a pipe: %w", err)
	}
	return newPipeConn(r1, w2), newPipeConn(r2, w1), nil
}

func newPipeConn(r, w *os.File) *Conn {
	c := &Conn{rf: r, wf: w}
	c.max.Store(DefaultMaxMessage)
	return c
}

func newNetConn(nc net.Conn) *Conn {
	c := &Conn{nc: nc, br: bufio.NewReaderSize(nc, 64<<10)}
	c.max.Store(DefaultMaxMessage)
	return c
}

// SetMaxMessage sets the largest message c sends or receives, in bytes;
// the default is DefaultMaxMessage. It panics if n is not positive or
// exceeds 4 GiB - 1, the most a frame can announce.
func (c *Conn) SetMaxMessage(n int) {
	if n <= 0 || uint64(n) > 1<<32-1 {
		panic(fmt.Sprintf("mp: SetMaxMessage(%d) out of range", n))
	}
	c.max.Store(int64(n))
}

// Send sends v; the receiver decodes it with Recv into a value of the same
// type (or one of the same shape). v may be nil, and Recv then sets its
// variable to the zero value. Named types sent inside interface values
// must be registered with RegisterType. See "Values" in the package
// documentation for what can be sent.
func (c *Conn) Send(v any) error {
	passing.RLock()
	b, err := wire.Encode(nil, v)
	passing.RUnlock()
	if err != nil {
		return err
	}
	return c.SendBytes(b)
}

// Recv receives a message sent with Send and decodes it into v, which must
// be a non-nil pointer; what v pointed to is replaced, not merged into. It blocks until a message comes, and returns io.EOF
// once the peer has closed its end and every message has been received.
func (c *Conn) Recv(v any) error {
	if err := checkPointer(v); err != nil {
		return err
	}
	b, err := c.RecvBytes()
	if err != nil {
		return err
	}
	return wire.Decode(b, v)
}

// SendBytes sends p as one message, which RecvBytes returns whole.
func (c *Conn) SendBytes(p []byte) error {
	if c.closed.Load() {
		return ErrConnClosed
	}
	if c.nc == nil && c.wf == nil {
		return fmt.Errorf("%w: cannot send on the receiving end", ErrWrongEnd)
	}
	if int64(len(p)) > c.max.Load() {
		return fmt.Errorf("%w: %d bytes exceed the maximum of %d", ErrMessageTooLarge, len(p), c.max.Load())
	}
	var w io.Writer = c.wf
	if c.nc != nil {
		w = c.nc
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var err error
	if len(p) <= 64<<10 {
		// One write: fewer system calls, and atomic on a pipe up to
		// PIPE_BUF bytes.
		c.wbuf = wire.AppendFrame(c.wbuf[:0], p)
		_, err = w.Write(c.wbuf)
	} else {
		// No copy of a large message.
		var hdr [wire.HeaderSize]byte
		wire.PutHeader(&hdr, len(p))
		if _, err = w.Write(hdr[:]); err == nil {
			_, err = w.Write(p)
		}
	}
	if err != nil {
		return c.ioError("send", err)
	}
	return nil
}

// RecvBytes receives one message, as sent by SendBytes (or the encoded
// value sent by Send). It blocks until a message comes and returns io.EOF
// once the peer has closed its end and every message has been received.
func (c *Conn) RecvBytes() ([]byte, error) {
	if c.closed.Load() {
		return nil, ErrConnClosed
	}
	if c.nc == nil && c.rf == nil {
		return nil, fmt.Errorf("%w: cannot receive on the sending end", ErrWrongEnd)
	}
	var r io.Reader = c.rf
	if c.nc != nil {
		r = c.br
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.broken != nil {
		return nil, c.broken
	}
	b, err := wire.ReadFrame(r, &c.hdr, int(c.max.Load()))
	switch {
	case err == io.EOF:
		return nil, io.EOF
	case errors.Is(err, ErrMessageTooLarge) || errors.Is(err, ErrBadMessage):
		c.broken = err
		return nil, err
	case err != nil:
		return nil, c.ioError("receive", err)
	}
	return b, nil
}

// RecvBytesInto receives one message into p, as Python's recv_bytes_into
// does, and returns its length; it saves an allocation per message. A
// message longer than p is consumed and lost, and RecvBytesInto returns
// its length and an error wrapping ErrBufferTooShort.
func (c *Conn) RecvBytesInto(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, ErrConnClosed
	}
	if c.nc == nil && c.rf == nil {
		return 0, fmt.Errorf("%w: cannot receive on the sending end", ErrWrongEnd)
	}
	var r io.Reader = c.rf
	if c.nc != nil {
		r = c.br
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.broken != nil {
		return 0, c.broken
	}
	if _, err := io.ReadFull(r, c.hdr[:]); err != nil {
		switch {
		case err == io.EOF:
			return 0, io.EOF
		case errors.Is(err, io.ErrUnexpectedEOF):
			c.broken = fmt.Errorf("%w: truncated frame header", ErrBadMessage)
			return 0, c.broken
		}
		return 0, c.ioError("receive", err)
	}
	n := wire.Length(c.hdr[:])
	if uint64(n) > uint64(len(p)) {
		if _, err := wire.ReadPayload(r, n, int(c.max.Load())); err != nil {
			c.broken = err
			return 0, err
		}
		return int(n), fmt.Errorf("%w: a message of %d bytes for a buffer of %d", ErrBufferTooShort, n, len(p))
	}
	if _, err := io.ReadFull(r, p[:n]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			c.broken = fmt.Errorf("%w: truncated frame", ErrBadMessage)
			return 0, c.broken
		}
		return 0, c.ioError("receive", err)
	}
	return int(n), nil
}

// Poll reports whether a message (or end of file) is waiting to be
// received, waiting up to timeout for one; a timeout of zero or less does
// not wait. It consumes nothing: a message that has begun to arrive makes
// it true, and RecvBytes then waits for the rest.
func (c *Conn) Poll(timeout time.Duration) (bool, error) {
	if c.closed.Load() {
		return false, ErrConnClosed
	}
	if c.nc == nil && c.rf == nil {
		return false, fmt.Errorf("%w: cannot poll the sending end", ErrWrongEnd)
	}
	timeout = max(timeout, 0)
	if c.nc != nil {
		c.rmu.Lock()
		defer c.rmu.Unlock()
		if c.br.Buffered() > 0 {
			return true, nil
		}
		if timeout == 0 {
			// A deadline already past would fail the read before it
			// looks: ask the socket.
			if ok, err := socketReadable(c.nc); err == nil {
				return ok, nil
			}
			timeout = time.Millisecond
		}
		_ = c.nc.SetReadDeadline(time.Now().Add(timeout))
		_, err := c.br.Peek(1)
		_ = c.nc.SetReadDeadline(time.Time{})
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return false, nil
		}
		return true, nil // a message, or an end or error that Recv will report
	}
	ok, err := pollRead(c.rf, timeout)
	if err != nil {
		return false, c.ioError("poll", err)
	}
	return ok, nil
}

// Close closes c. Later calls of its methods return ErrConnClosed; a
// receive blocked in another goroutine returns too. Closing twice is
// harmless.
func (c *Conn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	var errs []error
	for _, f := range []*os.File{c.rf, c.wf} {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	if c.nc != nil {
		errs = append(errs, c.nc.Close())
	}
	return errors.Join(errs...)
}

func (c *Conn) ioError(op string, err error) error {
	if c.closed.Load() || errors.Is(err, os.ErrClosed) || errors.Is(err, net.ErrClosed) {
		return ErrConnClosed
	}
	return fmt.Errorf("mp: %s: %w", op, err)
}

// MarshalBinary lets Start carry c into a child; it fails elsewhere, with
// ErrNotPassable, as it does for a connection of a Listener or Client.
func (c *Conn) MarshalBinary() ([]byte, error) {
	if c.nc != nil {
		return nil, fmt.Errorf("%w: a network connection stays in its process", ErrNotPassable)
	}
	if c.closed.Load() {
		return nil, ErrConnClosed
	}
	w := &wire.Writer{}
	w.Byte(1)
	w.Uint(uint64(c.max.Load()))
	return appendFiles(w, c.rf, c.wf)
}

// UnmarshalBinary is MarshalBinary's inverse, in the child.
func (c *Conn) UnmarshalBinary(b []byte) error {
	d := wire.NewReader(b)
	if d.Byte() != 1 {
		return fmt.Errorf("%w: not an encoded Conn", ErrBadMessage)
	}
	max := d.Uint()
	rf := readFile(d)
	wf := readFile(d)
	if err := d.End(); err != nil {
		return err
	}
	if max == 0 || max > 1<<32-1 {
		return fmt.Errorf("%w: bad Conn", ErrBadMessage)
	}
	c.rf, c.wf = rf, wf
	c.max.Store(int64(max))
	return nil
}
