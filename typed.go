package mp

import (
	"fmt"
	"time"

	"github.com/go-mp/mp/internal/handles"
)

// TypedQueue is a Queue of values of type T: Put takes a T and Get returns
// one, so that the compiler checks what a queue carries. It crosses into
// children as a Queue does.
type TypedQueue[T any] struct {
	q *Queue
}

// NewTypedQueue returns a TypedQueue; maxsize is as for NewQueue.
func NewTypedQueue[T any](maxsize int) (*TypedQueue[T], error) {
	q, err := NewQueue(maxsize)
	if err != nil {
		return nil, err
	}
	return &TypedQueue[T]{q: q}, nil
}

// Queue returns the untyped queue underneath, for Qsize, Empty, Full,
// Close and the other methods of Queue.
func (t *TypedQueue[T]) Queue() *Queue { return t.q }

// Put puts v on the queue; see Queue.Put.
func (t *TypedQueue[T]) Put(v T) error { return t.q.Put(v) }

// PutTimeout is Queue.PutTimeout.
func (t *TypedQueue[T]) PutTimeout(v T, timeout time.Duration) error {
	return t.q.PutTimeout(v, timeout)
}

// Get gets a value, waiting for one; see Queue.Get.
func (t *TypedQueue[T]) Get() (T, error) {
	var v T
	err := t.q.Get(&v)
	return v, err
}

// GetTimeout is Queue.GetTimeout.
func (t *TypedQueue[T]) GetTimeout(timeout time.Duration) (T, error) {
	var v T
	err := t.q.GetTimeout(&v, timeout)
	return v, err
}

// Close is Queue.Close.
func (t *TypedQueue[T]) Close() error { return t.q.Close() }

func (t *TypedQueue[T]) passSet() (*handles.Set, error) {
	if t.q == nil {
		return nil, fmt.Errorf("%w: use NewTypedQueue", ErrQueueClosed)
	}
	return t.q.passSet()
}

// MarshalBinary lets Start carry t into a child; see Queue.MarshalBinary.
func (t *TypedQueue[T]) MarshalBinary() ([]byte, error) {
	if t.q == nil {
		return nil, fmt.Errorf("%w: use NewTypedQueue", ErrQueueClosed)
	}
	return t.q.MarshalBinary()
}

// UnmarshalBinary is MarshalBinary's inverse, in the child.
func (t *TypedQueue[T]) UnmarshalBinary(b []byte) error {
	q := &Queue{}
	if err := q.UnmarshalBinary(b); err != nil {
		return err
	}
	t.q = q
	return nil
}

// RecvAs receives a value of type T on c; see Conn.Recv.
func RecvAs[T any](c *Conn) (T, error) {
	var v T
	err := c.Recv(&v)
	return v, err
}
