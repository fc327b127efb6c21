package mp

import (
	"context"
	"fmt"
	"iter"
	"reflect"
	"sync"
	"time"

	"github.com/go-mp/mp/internal/wire"
)

// Map runs fn on every item in the pool's workers and returns the results
// in the items' order: Python's Pool.map. Items go to the workers in chunks
// (WithChunksize; by default len(items) / (4 * workers), rounded up).
//
// Map waits for every task, even after one has failed. If any failed, it
// returns the results of the others (the zero R where a task failed) and
// the *TaskError of the first failed item; Imap yields each task's error.
// A call on a closed pool returns ErrPoolClosed, and one whose fn is not a
// registered top-level function ErrInvalidTarget; these run nothing.
func Map[T, R any](p *Pool, fn func(T) (R, error), items []T, opts ...CallOption) ([]R, error) {
	return MapContext(context.Background(), p, fn, items, opts...)
}

// MapContext is Map until ctx is done. Then it stops handing out the
// call's tasks and returns ctx.Err() at once; the tasks that are running
// finish, and their results are dropped, unless WithKillOnCancel says to
// kill their workers.
func MapContext[T, R any](ctx context.Context, p *Pool, fn func(T) (R, error), items []T, opts ...CallOption) ([]R, error) {
	s, j, err := startItems(ctx, p, fn, items, opts, true)
	if err != nil {
		return nil, err
	}
	if err := s.await(ctx, p.c, j); err != nil {
		return nil, err
	}
	return s.vals, s.firstErr()
}

// MapAsync is Map without waiting: Python's map_async. The result's Get
// returns what Map would.
func MapAsync[T, R any](p *Pool, fn func(T) (R, error), items []T, opts ...CallOption) *AsyncResult[[]R] {
	return MapAsyncContext(context.Background(), p, fn, items, opts...)
}

// MapAsyncContext is MapAsync whose call is cancelled when ctx is done, as
// MapContext's is; Get then returns ctx.Err().
func MapAsyncContext[T, R any](ctx context.Context, p *Pool, fn func(T) (R, error), items []T, opts ...CallOption) *AsyncResult[[]R] {
	s, j, err := startItems(ctx, p, fn, items, opts, true)
	return newAsync(ctx, p, s, j, err, func() ([]R, error) { return s.vals, s.firstErr() })
}

// Apply runs fn(item) in a worker and returns its result: Python's
// Pool.apply. Its error is a *TaskError with Index 0.
func Apply[T, R any](p *Pool, fn func(T) (R, error), item T, opts ...CallOption) (R, error) {
	return ApplyContext(context.Background(), p, fn, item, opts...)
}

// ApplyContext is Apply until ctx is done, as MapContext is.
func ApplyContext[T, R any](ctx context.Context, p *Pool, fn func(T) (R, error), item T, opts ...CallOption) (R, error) {
	var zero R
	s, j, err := startItems(ctx, p, fn, []T{item}, opts, false)
	if err != nil {
		return zero, err
	}
	if err := s.await(ctx, p.c, j); err != nil {
		return zero, err
	}
	return s.vals[0], s.errs[0]
}

// ApplyAsync is Apply without waiting: Python's apply_async.
func ApplyAsync[T, R any](p *Pool, fn func(T) (R, error), item T, opts ...CallOption) *AsyncResult[R] {
	return ApplyAsyncContext(context.Background(), p, fn, item, opts...)
}

// ApplyAsyncContext is ApplyAsync whose task is cancelled when ctx is
// done, as MapContext's are; Get then returns ctx.Err().
func ApplyAsyncContext[T, R any](ctx context.Context, p *Pool, fn func(T) (R, error), item T, opts ...CallOption) *AsyncResult[R] {
	s, j, err := startItems(ctx, p, fn, []T{item}, opts, false)
	return newAsync(ctx, p, s, j, err, func() (R, error) { return s.vals[0], s.errs[0] })
}

// Imap runs fn on every item and yields the results in the items' order,
// each as soon as it and those before it are in: Python's Pool.imap. A
// failed task yields its *TaskError and the loop may go on. Chunks are of
// one item unless WithChunksize says otherwise.
//
// The tasks are handed out when the loop starts, and ranging again runs
// them again. Breaking out of the loop cancels the tasks not yet handed
// out; those running finish and their results are dropped (or their
// workers are killed, with WithKillOnCancel). An error of the call itself
// (a closed pool, an unregistered fn) is yielded once, with the zero R.
func Imap[T, R any](p *Pool, fn func(T) (R, error), items []T, opts ...CallOption) iter.Seq2[R, error] {
	return ImapContext(context.Background(), p, fn, items, opts...)
}

// ImapContext is Imap until ctx is done; then it cancels the call as
// MapContext does and yields ctx.Err() once.
func ImapContext[T, R any](ctx context.Context, p *Pool, fn func(T) (R, error), items []T, opts ...CallOption) iter.Seq2[R, error] {
	return func(yield func(R, error) bool) {
		var zero R
		s, j, err := startItems(ctx, p, fn, items, opts, false)
		if err != nil {
			yield(zero, err)
			return
		}
		defer p.c.cancel(j, s, errCancelled)
		for i := range items {
			if err := s.awaitIndex(ctx, i); err != nil {
				yield(zero, err)
				return
			}
			v, e := s.take(i)
			if !yield(v, e) {
				return
			}
		}
	}
}

// ImapUnordered is Imap yielding the results in the order they come in:
// Python's Pool.imap_unordered. A result does not say which item it came
// from (a *TaskError does): return it within R if the caller needs it.
func ImapUnordered[T, R any](p *Pool, fn func(T) (R, error), items []T, opts ...CallOption) iter.Seq2[R, error] {
	return ImapUnorderedContext(context.Background(), p, fn, items, opts...)
}

// ImapUnorderedContext is ImapUnordered until ctx is done, as ImapContext
// is.
func ImapUnorderedContext[T, R any](ctx context.Context, p *Pool, fn func(T) (R, error), items []T, opts ...CallOption) iter.Seq2[R, error] {
	return func(yield func(R, error) bool) {
		var zero R
		s, j, err := startItems(ctx, p, fn, items, opts, false, true)
		if err != nil {
			yield(zero, err)
			return
		}
		defer p.c.cancel(j, s, errCancelled)
		for range items {
			i, err := s.awaitAny(ctx)
			if err != nil {
				yield(zero, err)
				return
			}
			v, e := s.take(i)
			if !yield(v, e) {
				return
			}
		}
	}
}

// Starmap runs fn on each argument list and returns the results in order:
// Python's Pool.starmap. fn is a registered top-level function of any
// parameters returning (R, error); every argument list is checked against
// its parameters, as a Process's Args are, before anything runs, and a
// list that does not fit makes Starmap return an error wrapping ErrArgs.
// Otherwise it behaves as Map.
func Starmap[R any](p *Pool, fn any, args [][]any, opts ...CallOption) ([]R, error) {
	return StarmapContext[R](context.Background(), p, fn, args, opts...)
}

// StarmapContext is Starmap until ctx is done, as MapContext is.
func StarmapContext[R any](ctx context.Context, p *Pool, fn any, args [][]any, opts ...CallOption) ([]R, error) {
	s, j, err := startStar[R](ctx, p, fn, args, opts)
	if err != nil {
		return nil, err
	}
	if err := s.await(ctx, p.c, j); err != nil {
		return nil, err
	}
	return s.vals, s.firstErr()
}

// StarmapAsync is Starmap without waiting: Python's starmap_async.
func StarmapAsync[R any](p *Pool, fn any, args [][]any, opts ...CallOption) *AsyncResult[[]R] {
	return StarmapAsyncContext[R](context.Background(), p, fn, args, opts...)
}

// StarmapAsyncContext is StarmapAsync whose call is cancelled when ctx is
// done, as MapContext's is; Get then returns ctx.Err().
func StarmapAsyncContext[R any](ctx context.Context, p *Pool, fn any, args [][]any, opts ...CallOption) *AsyncResult[[]R] {
	s, j, err := startStar[R](ctx, p, fn, args, opts)
	return newAsync(ctx, p, s, j, err, func() ([]R, error) { return s.vals, s.firstErr() })
}

// startItems checks a call of fn on items and queues its tasks.
func startItems[T, R any](ctx context.Context, p *Pool, fn func(T) (R, error), items []T, opts []CallOption, mapChunk bool, unordered ...bool) (*results[R], *job, error) {
	cc, err := callOptions(opts)
	if err != nil {
		return nil, nil, err
	}
	if fn == nil {
		return nil, nil, fmt.Errorf("%w: nil function", ErrInvalidTarget)
	}
	t, err := lookup(fn)
	if err != nil {
		return nil, nil, err
	}
	chunk := cc.chunk
	if chunk == 0 {
		chunk = 1
		if mapChunk {
			chunk = p.c.mapChunk(len(items))
		}
	}
	s := newResults[R](len(items))
	s.unordered = len(unordered) > 0 && unordered[0]
	j := newJob(t, len(items), chunk, s, cc)
	elem := reflect.TypeFor[T]()
	j.encode = func(lo, hi int) ([]byte, []int, []error) {
		part := items[lo:hi]
		return encodeChunk(hi-lo, lo, part, elem, func(i int) reflect.Value { return reflect.ValueOf(&part[i]).Elem() })
	}
	return s, j, p.start(ctx, j)
}

// startStar checks a Starmap call and queues its tasks.
func startStar[R any](ctx context.Context, p *Pool, fn any, args [][]any, opts []CallOption) (*results[R], *job, error) {
	cc, err := callOptions(opts)
	if err != nil {
		return nil, nil, err
	}
	t, err := lookup(fn)
	if err != nil {
		return nil, nil, err
	}
	if t.typ != nil || !t.returnsResult() {
		return nil, nil, fmt.Errorf("%w: %s must be a function returning a result and an error", ErrInvalidTarget, t.display())
	}
	if rt, want := t.fn.Type().Out(0), reflect.TypeFor[R](); rt != want {
		return nil, nil, fmt.Errorf("%w: %s returns %s, not %s", ErrInvalidTarget, t.display(), rt, want)
	}
	for i, a := range args {
		if _, err := t.convertArgs(a); err != nil {
			return nil, nil, fmt.Errorf("argument list %d: %w", i, err)
		}
	}
	chunk := cc.chunk
	if chunk == 0 {
		chunk = p.c.mapChunk(len(args))
	}
	s := newResults[R](len(args))
	j := newJob(t, len(args), chunk, s, cc)
	j.star = true
	box := t.argsType()
	j.encode = func(lo, hi int) ([]byte, []int, []error) {
		return encodeChunk(hi-lo, lo, nil, box, func(i int) reflect.Value {
			in, _ := t.convertArgs(args[lo+i]) // checked above
			v := reflect.New(box).Elem()
			for k, x := range in {
				v.Field(k).Set(x)
			}
			return v
		})
	}
	return s, j, p.start(ctx, j)
}

// start queues j, unless ctx is done or the pool cannot take it.
func (p *Pool) start(ctx context.Context, j *job) error {
	c := p.c
	j.pool = p
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := c.submit(j); err != nil {
		return err
	}
	if j.n == 0 {
		j.out.finish()
	}
	return nil
}

// cancel withdraws j's tasks not yet handed out and settles the call with
// err; a call that has ended is left as it is.
func (c *poolCore) cancel(j *job, s sink, err error) {
	c.stop(j)
	s.abort(err)
}

// encodeChunk encodes the items at positions lo..lo+n as one slice of
// elem: fast, if not nil, is that slice as it is; at returns one item. If
// that fails it finds the items that cannot be encoded, which fail alone.
func encodeChunk(n, lo int, fast any, elem reflect.Type, at func(i int) reflect.Value) ([]byte, []int, []error) {
	build := func(keep func(int) bool) ([]byte, error) {
		vs := reflect.MakeSlice(reflect.SliceOf(elem), 0, n)
		for i := range n {
			if keep == nil || keep(i) {
				vs = reflect.Append(vs, at(i))
			}
		}
		return poolEncode(vs.Interface())
	}
	var b []byte
	var err error
	if fast != nil {
		b, err = poolEncode(fast)
	} else {
		b, err = build(nil)
	}
	if err == nil {
		return b, nil, nil
	}
	var bad []int
	var errs []error
	isBad := map[int]bool{}
	for i := range n {
		if _, err := poolEncode(at(i).Interface()); err != nil {
			bad = append(bad, lo+i)
			errs = append(errs, fmt.Errorf("encoding the item: %w", err))
			isBad[i] = true
		}
	}
	if len(bad) == n {
		return nil, bad, errs
	}
	b, err = build(func(i int) bool { return !isBad[i] })
	if err != nil {
		// Each encodes alone, and not together: fail them all.
		bad, errs = bad[:0], errs[:0]
		for i := range n {
			bad = append(bad, lo+i)
			errs = append(errs, fmt.Errorf("encoding the items: %w", err))
		}
		return nil, bad, errs
	}
	return b, bad, errs
}

// sink receives a call's outcomes, by item index, from the pool's slots.
type sink interface {
	values(idx []int, payload []byte) error // decode results for idx
	fail(i int, err error)
	finish()         // the call has no tasks
	abort(err error) // end the call with err, unless it has ended
}

// results is a call's outcomes.
type results[R any] struct {
	mu        sync.Mutex
	vals      []R
	errs      map[int]error // the failed items
	set       []bool        // settled
	order     []int         // settled indices not yet taken, in order of arrival (ImapUnordered)
	unordered bool          // keep order
	left      int           // not settled
	done      chan struct{} // closed when all are settled, or aborted
	notify    chan struct{} // a settlement, for Imap
	err       error         // abort's error
}

func newResults[R any](n int) *results[R] {
	return &results[R]{vals: make([]R, n), set: make([]bool, n), left: n,
		done: make(chan struct{}), notify: make(chan struct{}, 1)}
}

func (s *results[R]) values(idx []int, payload []byte) error {
	// Decode in place when the results are for consecutive items: a span
	// of s.vals that no one else writes or reads before it is settled.
	lo, hi := idx[0], idx[len(idx)-1]+1
	inPlace := hi-lo == len(idx)
	var vs []R
	if inPlace {
		vs = s.vals[lo:lo:hi]
	}
	if err := wire.Decode(payload, &vs); err != nil {
		return fmt.Errorf("decoding the results: %w", err)
	}
	if len(vs) != len(idx) {
		return fmt.Errorf("%w: %d results for %d tasks", ErrBadMessage, len(vs), len(idx))
	}
	inPlace = inPlace && &vs[0] == &s.vals[lo]
	s.mu.Lock()
	for k, i := range idx {
		if !s.set[i] {
			if !inPlace {
				s.vals[i] = vs[k]
			}
			s.settle(i)
		}
	}
	s.signal()
	s.mu.Unlock()
	return nil
}

func (s *results[R]) fail(i int, err error) {
	s.mu.Lock()
	if !s.set[i] {
		if s.errs == nil {
			s.errs = map[int]error{}
		}
		s.errs[i] = err
		s.settle(i)
		s.signal()
	}
	s.mu.Unlock()
}

// settle marks i settled. s.mu is held.
func (s *results[R]) settle(i int) {
	s.set[i] = true
	if s.unordered {
		s.order = append(s.order, i)
	}
	s.left--
}

// signal tells the waiters of what settle did. s.mu is held.
func (s *results[R]) signal() {
	if s.left == 0 && s.err == nil {
		select {
		case <-s.done:
		default:
			close(s.done)
		}
	}
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *results[R]) finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.left == 0 && s.err == nil {
		select {
		case <-s.done:
		default:
			close(s.done)
		}
	}
}

// abort ends the call with err, unless it has ended.
func (s *results[R]) abort(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.left == 0 || s.err != nil {
		return
	}
	s.err = err
	close(s.done)
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// await waits for every task, or for ctx; then it cancels the call.
func (s *results[R]) await(ctx context.Context, c *poolCore, j *job) error {
	select {
	case <-s.done:
	case <-ctx.Done():
		c.cancel(j, s, ctx.Err())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// awaitIndex waits until item i is settled.
func (s *results[R]) awaitIndex(ctx context.Context, i int) error {
	for {
		s.mu.Lock()
		set, err := s.set[i], s.err
		s.mu.Unlock()
		switch {
		case set:
			return nil
		case err != nil:
			return err
		}
		select {
		case <-s.notify:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// awaitAny waits for a settled item not yet taken, and returns it.
func (s *results[R]) awaitAny(ctx context.Context) (int, error) {
	for {
		s.mu.Lock()
		if len(s.order) > 0 {
			i := s.order[0]
			s.order = s.order[1:]
			s.mu.Unlock()
			return i, nil
		}
		err := s.err
		s.mu.Unlock()
		if err != nil {
			return 0, err
		}
		select {
		case <-s.notify:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// take returns item i's outcome and lets go of it.
func (s *results[R]) take(i int) (R, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var zero R
	v, err := s.vals[i], s.errs[i]
	s.vals[i] = zero
	delete(s.errs, i)
	return v, err
}

// firstErr returns the error of the first failed item.
func (s *results[R]) firstErr() error {
	first := -1
	for i := range s.errs {
		if first < 0 || i < first {
			first = i
		}
	}
	return s.errs[first] // nil if none failed
}

// AsyncResult is the result of ApplyAsync, MapAsync or StarmapAsync:
// Python's AsyncResult. Its methods are safe for concurrent use.
type AsyncResult[R any] struct {
	done <-chan struct{}
	once sync.Once
	load func() (R, error)
	val  R
	err  error
}

// newAsync makes the AsyncResult of a started call (or of one that could
// not start: err).
func newAsync[R, V any](ctx context.Context, p *Pool, s *results[V], j *job, err error, load func() (R, error)) *AsyncResult[R] {
	if err != nil {
		done := make(chan struct{})
		close(done)
		return &AsyncResult[R]{done: done, load: func() (R, error) { var zero R; return zero, err }}
	}
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { p.c.cancel(j, s, ctx.Err()) })
		go func() {
			<-s.done
			stop()
		}()
	}
	return &AsyncResult[R]{done: s.done, load: func() (R, error) {
		s.mu.Lock()
		err := s.err
		s.mu.Unlock()
		if err != nil {
			var zero R
			return zero, err
		}
		return load()
	}}
}

func (a *AsyncResult[R]) result() (R, error) {
	a.once.Do(func() { a.val, a.err = a.load() })
	return a.val, a.err
}

// Get waits for the call and returns what the synchronous call returns.
func (a *AsyncResult[R]) Get() (R, error) {
	<-a.done
	return a.result()
}

// GetTimeout is Get waiting at most d: Python's get(timeout). If the call
// has not ended by then it returns an error wrapping ErrNotReady, and the
// call goes on. A d of zero or less does not wait.
func (a *AsyncResult[R]) GetTimeout(d time.Duration) (R, error) {
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-a.done:
		case <-t.C:
		}
	}
	select {
	case <-a.done:
		return a.result()
	default:
		var zero R
		return zero, fmt.Errorf("%w after %v", ErrNotReady, d)
	}
}

// GetContext is Get until ctx is done; then it returns an error wrapping
// ctx.Err() and ErrNotReady, and the call goes on.
func (a *AsyncResult[R]) GetContext(ctx context.Context) (R, error) {
	select {
	case <-a.done:
		return a.result()
	case <-ctx.Done():
		select {
		case <-a.done:
			return a.result()
		default:
		}
		var zero R
		return zero, fmt.Errorf("%w (%w)", ErrNotReady, ctx.Err())
	}
}

// Wait waits for the call to end: Python's wait().
func (a *AsyncResult[R]) Wait() { <-a.done }

// Done returns a channel that is closed when the call has ended.
func (a *AsyncResult[R]) Done() <-chan struct{} { return a.done }

// Ready reports whether the call has ended: Python's ready().
func (a *AsyncResult[R]) Ready() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

// Successful reports whether the call has ended without an error. While
// it runs it reports false (Python raises ValueError then; ask Ready).
func (a *AsyncResult[R]) Successful() bool {
	if !a.Ready() {
		return false
	}
	_, err := a.result()
	return err == nil
}
