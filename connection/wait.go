package connection

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-mp/mp"
)

// Wait waits until at least one of objects is ready, or timeout has passed,
// and returns those that are ready, in the order given: Python's
// multiprocessing.connection.wait. A timeout of zero looks once, and one
// below zero waits without limit. Once the timeout has passed, Wait
// returns no objects and a nil error.
//
// An object is one of:
//
//   - a *mp.Conn: ready when a message or end of file is waiting to be
//     received (see Conn.Poll);
//   - a *mp.Process: ready once it has exited (Python's sentinel);
//   - a <-chan struct{} or chan struct{}: ready once closed, like the
//     channels of Process.Done and Context.Done. Wait receives from it to
//     find out, so a value sent on it is taken.
//
// Wait returns an error for anything else, and the error of a Conn that
// cannot be polled (closed, say); it waits for nothing then.
func Wait(objects []any, timeout time.Duration) ([]any, error) {
	if timeout < 0 {
		return WaitContext(context.Background(), objects)
	}
	if timeout == 0 {
		return look(objects, nil)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ready, err := WaitContext(ctx, objects)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil, nil
	}
	return ready, err
}

// WaitContext is Wait that waits until ctx is done rather than for a
// timeout: then it returns no objects and ctx's error. Objects ready as
// ctx ends count: they are returned with a nil error.
func WaitContext(ctx context.Context, objects []any) ([]any, error) {
	if err := check(objects); err != nil {
		return nil, err
	}
	if ready, err := look(objects, nil); err != nil || len(ready) > 0 {
		return ready, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// One goroutine per object; the first to see its object ready ends the
	// wait of the others.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		received = make([]bool, len(objects)) // a value came on a channel
		failure  error
	)
	for i, o := range objects {
		wg.Go(func() {
			if c, ok := o.(*mp.Conn); ok {
				ok, err := c.PollContext(wctx)
				if err != nil && wctx.Err() == nil {
					mu.Lock()
					if failure == nil {
						failure = fmt.Errorf("mp: connection.Wait: object %d: %w", i, err)
					}
					mu.Unlock()
				}
				if ok || err != nil {
					cancel()
				}
				return
			}
			select {
			case <-channel(o):
				mu.Lock()
				received[i] = true
				mu.Unlock()
				cancel()
			case <-wctx.Done():
			}
		})
	}
	<-wctx.Done()
	cancel()
	wg.Wait()
	if failure != nil {
		return nil, failure
	}
	ready, err := look(objects, received)
	if err != nil || len(ready) > 0 {
		return ready, err
	}
	return nil, ctx.Err()
}

// channel returns the channel that tells when o, a Process or a channel,
// is ready.
func channel(o any) <-chan struct{} {
	switch o := o.(type) {
	case *mp.Process:
		return o.Done()
	case chan struct{}:
		return o
	}
	return o.(<-chan struct{})
}

// check refuses objects Wait cannot wait for.
func check(objects []any) error {
	for i, o := range objects {
		switch o := o.(type) {
		case *mp.Conn:
			if o == nil {
				return fmt.Errorf("mp: connection.Wait: object %d is a nil *mp.Conn", i)
			}
		case *mp.Process:
			if o == nil {
				return fmt.Errorf("mp: connection.Wait: object %d is a nil *mp.Process", i)
			}
		case <-chan struct{}, chan struct{}:
		default:
			return fmt.Errorf("mp: connection.Wait: cannot wait for object %d, a %T (want *mp.Conn, *mp.Process or a channel of struct{})", i, o)
		}
	}
	return nil
}

// look returns the objects ready now, in order, counting those received
// marks as ready.
func look(objects []any, received []bool) ([]any, error) {
	if err := check(objects); err != nil {
		return nil, err
	}
	var ready []any
	for i, o := range objects {
		ok := received != nil && received[i]
		if c, isConn := o.(*mp.Conn); isConn {
			var err error
			if ok, err = c.Poll(0); err != nil {
				return nil, fmt.Errorf("mp: connection.Wait: object %d: %w", i, err)
			}
		} else if !ok {
			ok = closed(channel(o))
		}
		if ok {
			ready = append(ready, o)
		}
	}
	return ready, nil
}

// closed reports whether a receive from ch proceeds now.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
