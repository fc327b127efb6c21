package mp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-mp/mp/internal/handles"
	"github.com/go-mp/mp/internal/ready"
	"github.com/go-mp/mp/internal/wire"
)

// Conn is one end of a [Pipe], or a connection over a byte stream made
// with [NewConn] (package connection's Listener and Client make them from
// sockets): Python's multiprocessing.connection.Connection. It carries
// messages; each keeps its boundaries, an empty one included.
//
// A Conn from Pipe can be given to a child process, as an argument of a
// Process or a field of a Runner, under either start method, and passed on
// from there: the child is passed the pipe. Both processes then hold the
// end; as in Python, the peer sees end of file only once every copy of the
// other end is closed, so close the ends a process does not use.
//
// A Conn is safe for concurrent use: sends are serialised with sends, and
// receives with receives. Poll and PollContext may run alongside a
// receive: they never disturb it.
type Conn struct {
	rf, wf *os.File           // pipe ends; nil for the direction a one-way end lacks
	pass   *handles.Set       // rf and wf, as they cross into a child
	rw     io.ReadWriteCloser // the stream of a Conn from NewConn
	br     *bufio.Reader      // rw's reader, which reads ahead

	// ahead is what br held beyond the frames received, as of the last
	// receive; more is cancelled when ahead becomes positive, which wakes
	// the Polls waiting for rw's descriptor.
	aheadMu    sync.Mutex
	ahead      int
	more       context.Context
	moreCancel context.CancelFunc

	max    atomic.Int64
	closed atomic.Bool

	// life is cancelled by Close, which so wakes every Poll.
	lifeOnce sync.Once
	life     context.Context
	kill     context.CancelFunc

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
	c := &Conn{rf: r, wf: w, pass: handles.New(nonNil(r, w)...)}
	c.max.Store(DefaultMaxMessage)
	return c
}

// NewConn returns a Conn that carries messages over rw, a byte stream such
// as a socket (net.Conn): the counterpart of Python's Connection(handle).
// The Conn owns rw: its Close closes rw. It reads rw ahead, up to 64 KiB at
// a time (one read for a small message and the next one's header), and
// Poll counts what it has read ahead as waiting.
//
// Poll and PollContext need rw's descriptor: rw must implement
// syscall.Conn (as *net.TCPConn, *net.UnixConn and *os.File do);
// otherwise they return an error wrapping errors.ErrUnsupported. A Conn
// from NewConn stays in its process: it cannot be passed to a child
// (ErrNotPassable).
func NewConn(rw io.ReadWriteCloser) *Conn {
	if rw == nil {
		panic("mp: NewConn(nil)")
	}
	c := &Conn{rw: rw, br: bufio.NewReaderSize(rw, 64<<10)}
	c.max.Store(DefaultMaxMessage)
	return c
}

// reader and writer return the stream or pipe end c receives from and
// sends to; nil for the direction a one-way end lacks.
func (c *Conn) reader() io.Reader {
	switch {
	case c.rw != nil:
		return c.br
	case c.rf != nil:
		return c.rf
	}
	return nil
}

func (c *Conn) writer() io.Writer {
	switch {
	case c.rw != nil:
		return c.rw
	case c.wf != nil:
		return c.wf
	}
	return nil
}

// SetMaxMessage sets the largest message c sends or receives, in bytes;
// the default is DefaultMaxMessage. Messages over 2 GiB - 1 travel as
// Python frames them (see "Pipes and queues" in the package
// documentation). It panics if n is not positive.
func (c *Conn) SetMaxMessage(n int) {
	if n <= 0 {
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
	b, err := wire.Encode(nil, v)
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
	w := c.writer()
	if w == nil {
		return fmt.Errorf("%w: cannot send on the receiving end", ErrWrongEnd)
	}
	if int64(len(p)) > c.max.Load() {
		return fmt.Errorf("%w: %d bytes exceed the maximum of %d", ErrMessageTooLarge, len(p), c.max.Load())
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
		var hdr [wire.LongHeaderSize]byte
		if _, err = w.Write(wire.AppendHeader(hdr[:0], len(p))); err == nil {
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
	r := c.reader()
	if r == nil {
		return nil, fmt.Errorf("%w: cannot receive on the sending end", ErrWrongEnd)
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	defer c.publishAhead()
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
// message longer than p is not lost: RecvBytesInto returns its length and
// a *BufferTooShortError that holds it (Python's BufferTooShort carries
// it likewise), which wraps ErrBufferTooShort.
func (c *Conn) RecvBytesInto(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, ErrConnClosed
	}
	r := c.reader()
	if r == nil {
		return 0, fmt.Errorf("%w: cannot receive on the sending end", ErrWrongEnd)
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	defer c.publishAhead()
	if c.broken != nil {
		return 0, c.broken
	}
	n, err := wire.ReadHeader(r, &c.hdr)
	switch {
	case err == io.EOF:
		return 0, io.EOF
	case errors.Is(err, ErrBadMessage):
		c.broken = err
		return 0, err
	case err != nil:
		return 0, c.ioError("receive", err)
	}
	if n > uint64(len(p)) {
		msg, err := wire.ReadPayload(r, n, int(c.max.Load()))
		if err != nil {
			c.broken = err
			return 0, err
		}
		return int(n), &BufferTooShortError{Message: msg, Buffer: len(p)}
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

// Forever is a timeout without limit: Poll(mp.Forever) waits as Python's
// poll(None) does, until a message (or end of file) is waiting or the Conn
// is closed.
const Forever time.Duration = 1<<63 - 1

// Poll reports whether a message (or end of file) is waiting to be
// received, waiting up to timeout for one; a timeout of zero or less does
// not wait, and Forever waits without limit. It consumes nothing: a
// message that has begun to arrive makes it true, and RecvBytes then waits
// for the rest. Poll may run while
// another goroutine receives: it never disturbs that receive, and waits no
// longer than timeout for it (the bytes the receive takes are not waiting
// any more).
func (c *Conn) Poll(timeout time.Duration) (bool, error) {
	switch {
	case timeout <= 0:
		return c.poll(context.Background(), false)
	case timeout == Forever:
		return c.poll(context.Background(), true)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ok, err := c.poll(ctx, true)
	if errors.Is(err, context.DeadlineExceeded) {
		return false, nil
	}
	return ok, err
}

// PollContext is Poll that waits until ctx is done rather than for a
// timeout: it reports true once a message (or end of file) is waiting, and
// returns false and ctx's error if ctx ends first. Close wakes it, with
// ErrConnClosed.
func (c *Conn) PollContext(ctx context.Context) (bool, error) {
	if ctx == nil {
		panic("mp: PollContext with a nil Context")
	}
	return c.poll(ctx, true)
}

// poll looks once, and if wait, waits until ctx is done.
func (c *Conn) poll(ctx context.Context, wait bool) (bool, error) {
	if c.closed.Load() {
		return false, ErrConnClosed
	}
	var sc syscall.Conn = c.rf
	switch {
	case c.rw != nil:
		var ok bool
		if sc, ok = c.rw.(syscall.Conn); !ok {
			return false, fmt.Errorf("mp: poll: %w: the stream (%T) has no descriptor to wait for", errors.ErrUnsupported, c.rw)
		}
	case c.rf == nil:
		return false, fmt.Errorf("%w: cannot poll the sending end", ErrWrongEnd)
	}
	more, ahead := c.readAhead(wait)
	if ahead {
		return true, nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false, c.ioError("poll", err)
	}
	ok, err := ready.Now(rc)
	if err == nil && !ok && wait {
		// Close ends the wait, and so does a receive that reads ahead the
		// bytes this wait is for.
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(c.lifetime(), cancel)()
		if more != nil {
			defer context.AfterFunc(more, cancel)()
		}
		ok, err = ready.Wait(wctx, rc)
		if err != nil && wctx.Err() != nil && ctx.Err() == nil && !c.closed.Load() {
			// A receive in another goroutine read a message ahead while
			// this waited: one was waiting, though that receive, or the
			// next, may have taken it since.
			return true, nil
		}
	}
	switch {
	case err == nil:
		return ok, nil
	case c.closed.Load():
		return false, ErrConnClosed
	case ctx.Err() != nil:
		return false, ctx.Err()
	case errors.Is(err, context.DeadlineExceeded):
		return false, err // the poller saw ctx's deadline before ctx did
	}
	return false, c.ioError("poll", err)
}

// readAhead reports whether a receive left bytes read ahead; if not and
// wait, it returns the context that the next receive to leave some
// cancels. A Conn over a pipe reads nothing ahead.
func (c *Conn) readAhead(wait bool) (more context.Context, ahead bool) {
	if c.br == nil {
		return nil, false
	}
	c.aheadMu.Lock()
	defer c.aheadMu.Unlock()
	if c.ahead > 0 {
		return nil, true
	}
	if wait {
		if c.more == nil {
			c.more, c.moreCancel = context.WithCancel(context.Background())
		}
		more = c.more
	}
	return more, false
}

// publishAhead records what a receive left read ahead, and wakes the Polls
// waiting if it left something. c.rmu is held.
func (c *Conn) publishAhead() {
	if c.br == nil {
		return
	}
	n := c.br.Buffered()
	c.aheadMu.Lock()
	defer c.aheadMu.Unlock()
	c.ahead = n
	if n > 0 && c.moreCancel != nil {
		c.moreCancel()
		c.more, c.moreCancel = nil, nil
	}
}

// lifetime returns the context that Close cancels.
func (c *Conn) lifetime() context.Context {
	c.lifeOnce.Do(func() { c.life, c.kill = context.WithCancel(context.Background()) })
	return c.life
}

// Closed reports whether c has been closed: Python's closed.
func (c *Conn) Closed() bool { return c.closed.Load() }

// Readable reports whether c receives: false only for the sending end of
// a one-way Pipe. Python's readable.
func (c *Conn) Readable() bool { return c.rw != nil || c.rf != nil }

// Writable reports whether c sends: false only for the receiving end of a
// one-way Pipe. Python's writable.
func (c *Conn) Writable() bool { return c.rw != nil || c.wf != nil }

// Close closes c. Later calls of its methods return ErrConnClosed; a
// receive or Poll blocked in another goroutine returns too. Closing twice
// is harmless.
func (c *Conn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	c.lifetime()
	c.kill()
	var errs []error
	for _, f := range []*os.File{c.rf, c.wf} {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	if c.rw != nil {
		errs = append(errs, c.rw.Close())
	}
	return errors.Join(errs...)
}

func (c *Conn) ioError(op string, err error) error {
	if c.closed.Load() || errors.Is(err, os.ErrClosed) {
		return ErrConnClosed
	}
	return fmt.Errorf("mp: %s: %w", op, err)
}

// passSet returns the pipe ends under c, for Start to pass to a child.
func (c *Conn) passSet() (*handles.Set, error) {
	if c.rw != nil {
		return nil, fmt.Errorf("%w: a connection over a stream (from NewConn, a Listener or a Client) stays in its process", ErrNotPassable)
	}
	if c.closed.Load() {
		return nil, ErrConnClosed
	}
	return c.pass, nil
}

// MarshalBinary encodes c's identity, so that Start can carry c into a
// child (see "Pipes and queues" in the package documentation). The
// encoding decodes only in a process that holds c's pipe ends. A
// connection of a Listener or Client fails with ErrNotPassable.
func (c *Conn) MarshalBinary() ([]byte, error) {
	if _, err := c.passSet(); err != nil {
		return nil, err
	}
	w := &wire.Writer{}
	w.Byte(2)
	w.Raw(c.pass.ID[:])
	var ends uint64
	if c.rf != nil {
		ends |= 1
	}
	if c.wf != nil {
		ends |= 2
	}
	w.Uint(ends)
	w.Uint(uint64(c.max.Load()))
	return w.B, nil
}

// UnmarshalBinary is MarshalBinary's inverse. It fails with
// ErrNotPassable in a process that does not hold c's pipe ends; in one
// that does, the Conn it makes shares them (closing either closes both).
func (c *Conn) UnmarshalBinary(b []byte) error {
	d := wire.NewReader(b)
	if d.Byte() != 2 {
		return fmt.Errorf("%w: not an encoded Conn", ErrBadMessage)
	}
	var id [16]byte
	copy(id[:], d.Raw(len(id)))
	ends := d.Uint()
	max := d.Uint()
	if err := d.End(); err != nil {
		return err
	}
	if ends == 0 || ends > 3 || max == 0 || max > math.MaxInt {
		return fmt.Errorf("%w: bad Conn", ErrBadMessage)
	}
	s, err := heldSet(id, bits.OnesCount64(ends), "Conn")
	if err != nil {
		return err
	}
	files := s.Files
	if ends&1 != 0 {
		c.rf, files = files[0], files[1:]
	}
	if ends&2 != 0 {
		c.wf = files[0]
	}
	c.pass = s
	c.max.Store(int64(max))
	return nil
}

// nonNil returns files without the nil ones.
func nonNil(files ...*os.File) []*os.File {
	out := files[:0:0]
	for _, f := range files {
		if f != nil {
			out = append(out, f)
		}
	}
	return out
}
