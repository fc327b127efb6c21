package mp

import (
	"fmt"
	"runtime/debug"

	"github.com/go-mp/mp/internal/wire"
)

// TaskFunc is a task function registered with its types; see Task.
type TaskFunc[T, R any] struct {
	fn func(T) (R, error)
}

// Task wraps a task function for Main or Register, so that pool workers
// call it directly rather than through reflect:
//
//	mp.Main(mp.Task(sqr)) // then mp.Map(p, sqr, items)
//
// Registering fn itself works too, but every call then goes through
// reflect.Value.Call, which costs 0.4 to 1 µs here: more than a tiny task,
// and more than Python spends per item of Pool.map. Task costs nothing
// per call. It panics as Register does if fn is a closure or a method
// value, which a worker could not find.
func Task[T, R any](fn func(T) (R, error)) *TaskFunc[T, R] {
	if fn == nil {
		panic("mp: Task(nil)")
	}
	return &TaskFunc[T, R]{fn: fn}
}

// typedTask is what Register looks for in a TaskFunc.
type typedTask interface {
	function() any
	runner() chunkRunner
}

var _ typedTask = (*TaskFunc[int, int])(nil)

func (f *TaskFunc[T, R]) function() any       { return f.fn }
func (f *TaskFunc[T, R]) runner() chunkRunner { return f }

// runChunk runs a chunk of f's tasks.
func (f *TaskFunc[T, R]) runChunk(w *worker, m *taskMsg) (bool, error) {
	var items []T
	if err := wire.Decode(m.Items, &items); err != nil {
		return false, w.failAll(m, taskFail{Err: "decoding the item: " + err.Error(), Codec: true})
	}
	if len(items) != m.N-len(m.Skip) {
		return false, w.failAll(m, taskFail{Err: "the chunk holds the wrong number of items", Codec: true})
	}
	return runChunk(w, m, chunkCalls[R]{
		call:   func(k int) (R, *taskFail) { return callTyped(f.fn, items[k]) },
		encode: func(vals []R) ([]byte, error) { return poolEncode(vals) },
	})
}

// callTyped calls fn, recovering a panic with its stack.
func callTyped[T, R any](fn func(T) (R, error), x T) (r R, fail *taskFail) {
	defer func() {
		if p := recover(); p != nil {
			fail = &taskFail{Panic: fmt.Sprint(p), Stack: string(debug.Stack())}
		}
	}()
	r, err := fn(x)
	if err != nil {
		return r, &taskFail{Err: err.Error(), ErrType: fmt.Sprintf("%T", err)}
	}
	return r, nil
}
