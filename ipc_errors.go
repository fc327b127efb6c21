package mp

import (
	"errors"
	"fmt"

	"github.com/go-mp/mp/internal/ring"
	"github.com/go-mp/mp/internal/wire"
)

// Errors of connections and queues, compared with errors.Is.
var (
	// ErrConnClosed: use of a Conn after its Close.
	ErrConnClosed = errors.New("mp: connection is closed")
	// ErrWrongEnd: Send on the receiving end of a one-way pipe, or Recv
	// or Poll on its sending end.
	ErrWrongEnd = errors.New("mp: wrong end of a one-way pipe")
	// ErrMessageTooLarge: a message over the configured maximum, sent or
	// announced by a frame's length. A Conn that received such a frame is
	// out of step with its peer: later receives return the same error.
	ErrMessageTooLarge = wire.ErrMessageTooLarge
	// ErrBadMessage: a message that cannot be decoded (a truncated frame,
	// garbage, a value of the wrong type, one whose decoding would
	// allocate more than 48 times its size), or a value that cannot be
	// encoded (an unexported field, a channel, nesting deeper than
	// MaxDepth, a named type inside an interface that is not registered).
	ErrBadMessage = wire.ErrBadMessage
	// ErrBufferTooShort: RecvBytesInto got a message longer than its
	// buffer; the error is a *BufferTooShortError, which holds the
	// message.
	ErrBufferTooShort = errors.New("mp: buffer too short")
	// ErrFull: a Put that could not add its item in time to a full queue.
	ErrFull = ring.ErrFull
	// ErrEmpty: a Get that found no item in time.
	ErrEmpty = ring.ErrEmpty
	// ErrQueueClosed: use of a Queue after its Close.
	ErrQueueClosed = ring.ErrClosed
	// ErrTaskDone: TaskDone called more times than items were put.
	ErrTaskDone = ring.ErrTaskDone
	// ErrItemsLost: Join's error (joined with the child's own, if any)
	// when queue items that a child put, and handed over as it exited
	// because no one read them, reached no process that holds the queue
	// (every ancestor had closed or dropped it).
	ErrItemsLost = errors.New("mp: queue items lost")
	// ErrNotPassable: a Conn or Queue decoded in a process that does not
	// hold its files (it was sent, not passed by Start), or a connection
	// that cannot cross into a child (one from NewConn, as package
	// connection's Listener and Client make them).
	ErrNotPassable = errors.New("mp: cannot pass this to another process")
	// ErrAuth: a connection whose peer failed the authentication
	// challenge, or refused ours.
	ErrAuth = errors.New("mp: authentication failed")
)

// BufferTooShortError is RecvBytesInto's error for a message longer than
// its buffer: Python's BufferTooShort, which carries the message, so that
// nothing is lost. errors.Is(err, ErrBufferTooShort) holds for it.
type BufferTooShortError struct {
	Message []byte // the message, whole
	Buffer  int    // the length of the buffer it did not fit in
}

func (e *BufferTooShortError) Error() string {
	return fmt.Sprintf("%v: a message of %d bytes for a buffer of %d", ErrBufferTooShort, len(e.Message), e.Buffer)
}

// Unwrap returns ErrBufferTooShort.
func (e *BufferTooShortError) Unwrap() error { return ErrBufferTooShort }
