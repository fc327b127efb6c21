package mp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime/debug"
	"time"

	"github.com/go-mp/mp/internal/wire"
)

// A pool worker is a daemon Process running runWorker, a target this
// package registers. Its parent's slot sends it taskMsgs on one pipe and
// reads resultMsgs from another; both are values of the package's codec.
// Closing the task pipe tells the worker to exit.
func init() { Register(runWorker) }

// workerConfig is what a worker is started with.
type workerConfig struct {
	Init      string    // the initializer's registered name, or ""
	InitArgs  *initArgs // its arguments
	Stream    bool      // send each result as soon as it is ready (task timeouts)
	MaxMemory uint64    // exit after a chunk that leaves more resident memory; 0: no limit
}

// initArgs carries the initializer's arguments. Start finds the Conns and
// queues among them in Args, an exported field, and passes their files;
// MarshalBinary encodes them as a Process's arguments are encoded, and the
// worker decodes them once it holds those files.
type initArgs struct {
	Args []any // as WithInitializer got them
	t    *target
	b    []byte // in the worker
}

// MarshalBinary encodes the arguments as a Process's are encoded.
func (a *initArgs) MarshalBinary() ([]byte, error) {
	b, err := a.t.encodeArgs(nil, a.Args)
	return append([]byte{1}, b...), err
}

// UnmarshalBinary keeps the encoded arguments for the worker to decode.
func (a *initArgs) UnmarshalBinary(b []byte) error {
	if len(b) == 0 || b[0] != 1 {
		return fmt.Errorf("%w: bad initializer arguments", ErrBadMessage)
	}
	a.b = bytes.Clone(b[1:])
	return nil
}

// taskMsg is a chunk of tasks: items lo..lo+N of a call, less the Skip
// positions (items the parent could not encode, failed there).
type taskMsg struct {
	Seq    uint64
	Fn     string // the task function's registered name
	Star   bool   // items are argument lists
	Stream bool
	N      int
	Skip   []int
	Items  []byte // a value message: a slice of the items sent
}

// resultMsg is a worker's report: Ready once its initializer has run, then
// the outcomes of positions From..From+Count of chunk Seq, in order.
type resultMsg struct {
	Ready  bool
	Seq    uint64
	From   int
	Count  int
	Retire bool       // the worker exits after this chunk (memory)
	Fails  []taskFail // the positions that failed
	Values []byte     // a value message: a slice of the other positions' results, skipped ones left out
}

// taskFail is one failed task, as the worker saw it.
type taskFail struct {
	Pos                        int
	Err, ErrType, Panic, Stack string
	Codec                      bool // the item or result could not be decoded or encoded
}

// flushEvery bounds how long a worker keeps finished results of a long
// chunk before it sends them, so that they come home (and are not lost
// with the worker) while the chunk goes on.
const flushEvery = 20 * time.Millisecond

// runWorker is a pool worker's target.
func runWorker(tasks, results *Conn, cfg workerConfig) error {
	defer tasks.Close()
	defer results.Close()
	if cfg.Init != "" {
		registry.RLock()
		t := registry.byName[cfg.Init]
		registry.RUnlock()
		if t == nil || t.fn == (reflect.Value{}) {
			return fmt.Errorf("%w: the pool initializer %s is not registered in the worker", ErrInvalidTarget, cfg.Init)
		}
		var b []byte
		if cfg.InitArgs != nil {
			b = cfg.InitArgs.b
		}
		in, err := t.decodeArgs(b)
		if err != nil {
			return fmt.Errorf("mp: decoding the arguments of the pool initializer %s: %w", t.display(), err)
		}
		if err := t.call(context.Background(), in); err != nil {
			return fmt.Errorf("mp: pool initializer %s: %w", t.display(), err)
		}
	}
	if results.Send(&resultMsg{Ready: true}) != nil {
		return nil // the pool is gone
	}
	var w worker
	w.results, w.cfg = results, cfg
	for {
		var m taskMsg
		if err := tasks.Recv(&m); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, ErrConnClosed) {
				return nil
			}
			return fmt.Errorf("mp: pool worker: %w", err)
		}
		retire, err := w.run(&m)
		if err != nil || retire {
			return nil // the pool is gone, or memory says stop
		}
	}
}

// worker is a pool worker's state.
type worker struct {
	results *Conn
	cfg     workerConfig
	fnName  string
	fn      *target
}

// outcome is one position's outcome, waiting to be sent.
type outcome[R any] struct {
	pos  int
	val  R
	fail *taskFail
}

// chunkCalls is how a chunk's items are run and its results encoded:
// typed, for a function registered with Task, or through reflect.
type chunkCalls[R any] struct {
	call   func(k int) (R, *taskFail) // runs the k-th item sent
	encode func(vals []R) ([]byte, error)
}

// run runs a chunk and sends its outcomes. It reports whether the worker
// is to exit now (WithMaxMemory), and an error if it cannot send.
func (w *worker) run(m *taskMsg) (retire bool, err error) {
	if m.N <= 0 || len(m.Skip) > m.N {
		return false, fmt.Errorf("%w: bad chunk", ErrBadMessage)
	}
	t, err := w.target(m.Fn)
	if err != nil {
		return false, w.failAll(m, taskFail{Err: err.Error(), ErrType: fmt.Sprintf("%T", err)})
	}
	if t.run != nil && !m.Star {
		return t.run.runChunk(w, m)
	}
	return w.runReflect(t, m)
}

// failAll fails every position of m that was sent.
func (w *worker) failAll(m *taskMsg, f taskFail) error {
	var outs []outcome[struct{}]
	s := 0
	for p := range m.N {
		if s < len(m.Skip) && m.Skip[s] == p {
			s++
			continue
		}
		f := f
		f.Pos = p
		outs = append(outs, outcome[struct{}]{pos: p, fail: &f})
	}
	return flush(w, m.Seq, 0, m.N, outs, false, func([]struct{}) ([]byte, error) { return nil, nil })
}

// runReflect runs a chunk of a function registered without Task, or a
// Starmap's, calling it through reflect.
func (w *worker) runReflect(t *target, m *taskMsg) (bool, error) {
	ft := t.fn.Type()
	itemType := ft.In(0)
	if m.Star {
		itemType = t.argsType()
	} else if ft.NumIn() != 1 {
		return false, w.failAll(m, taskFail{Err: fmt.Sprintf("mp: %s takes %d arguments, not one item", t.display(), ft.NumIn())})
	}
	items := reflect.New(reflect.SliceOf(itemType))
	if err := wire.Decode(m.Items, items.Interface()); err != nil {
		return false, w.failAll(m, taskFail{Err: "decoding the item: " + err.Error(), Codec: true})
	}
	if items.Elem().Len() != m.N-len(m.Skip) {
		return false, w.failAll(m, taskFail{Err: "the chunk holds the wrong number of items", Codec: true})
	}
	resType := reflect.SliceOf(ft.Out(0))
	in := make([]reflect.Value, 1)
	return runChunk(w, m, chunkCalls[reflect.Value]{
		call: func(k int) (v reflect.Value, fail *taskFail) {
			item := items.Elem().Index(k)
			if m.Star {
				in = in[:0]
				if t.ctx { // a function that takes a context first gets one that is never done
					in = append(in, reflect.ValueOf(context.Background()))
				}
				for i := range item.NumField() {
					in = append(in, item.Field(i))
				}
			} else {
				in[0] = item
			}
			defer func() {
				if r := recover(); r != nil {
					fail = &taskFail{Panic: fmt.Sprint(r), Stack: string(debug.Stack())}
				}
			}()
			var out []reflect.Value
			if ft.IsVariadic() {
				out = t.fn.CallSlice(in)
			} else {
				out = t.fn.Call(in)
			}
			if err, _ := out[1].Interface().(error); err != nil {
				return v, &taskFail{Err: err.Error(), ErrType: fmt.Sprintf("%T", err)}
			}
			return out[0], nil
		},
		encode: func(vals []reflect.Value) ([]byte, error) {
			s := reflect.MakeSlice(resType, len(vals), len(vals))
			for i, v := range vals {
				s.Index(i).Set(v)
			}
			return poolEncode(s.Interface())
		},
	})
}

// A chunkRunner runs chunks of one task function without reflect: Task
// makes one.
type chunkRunner interface {
	runChunk(w *worker, m *taskMsg) (retire bool, err error)
}

// runChunk runs the items of m, sending their outcomes as the chunk ends,
// or as they come (m.Stream), or every flushEvery.
func runChunk[R any](w *worker, m *taskMsg, cc chunkCalls[R]) (retire bool, err error) {
	pending := make([]outcome[R], 0, min(m.N, 1<<16))
	from, k, s := 0, 0, 0
	// The clock is read after every task while tasks are slow, and ever
	// more rarely (up to every 1024th) while they are tiny: a read costs
	// more than a tiny task.
	last := time.Now()
	checked, stride, next := last, 1, 1
	for p := range m.N {
		if s < len(m.Skip) && m.Skip[s] == p {
			s++
		} else {
			v, fail := cc.call(k)
			k++
			if fail != nil {
				fail.Pos = p
			}
			pending = append(pending, outcome[R]{pos: p, val: v, fail: fail})
		}
		if p == m.N-1 {
			if w.cfg.MaxMemory > 0 {
				rss, err := residentMemory()
				retire = err == nil && rss > w.cfg.MaxMemory
			}
			return retire, flush(w, m.Seq, from, m.N, pending, retire, cc.encode)
		}
		if next--; !m.Stream && next > 0 {
			continue
		}
		now := time.Now()
		if now.Sub(checked) < time.Millisecond {
			stride = min(2*stride, 1024)
		} else {
			stride = 1
		}
		checked, next = now, stride
		if m.Stream || now.Sub(last) >= flushEvery {
			if err := flush(w, m.Seq, from, p+1, pending, false, cc.encode); err != nil {
				return false, err
			}
			from, pending, last = p+1, pending[:0], now
		}
	}
	return false, nil
}

// target returns the registered task function named name.
func (w *worker) target(name string) (*target, error) {
	if name == w.fnName && w.fn != nil {
		return w.fn, nil
	}
	registry.RLock()
	t := registry.byName[name]
	registry.RUnlock()
	if t == nil || !t.returnsResult() {
		return nil, fmt.Errorf("%w: %s is not a task function registered in the worker", ErrInvalidTarget, name)
	}
	w.fnName, w.fn = name, t
	return t, nil
}

// flush sends the outcomes of positions from..to. Results that cannot be
// encoded fail alone; a message over the maximum is split.
func flush[R any](w *worker, seq uint64, from, to int, outs []outcome[R], retire bool, encode func([]R) ([]byte, error)) error {
	msg := &resultMsg{Seq: seq, From: from, Count: to - from, Retire: retire}
	vals := make([]R, 0, len(outs))
	for _, o := range outs {
		if o.fail != nil {
			msg.Fails = append(msg.Fails, *o.fail)
		} else {
			vals = append(vals, o.val)
		}
	}
	if len(vals) > 0 {
		b, err := encode(vals)
		if err != nil {
			// Find the results that cannot be encoded; they fail alone.
			found := false
			for i := range outs {
				o := &outs[i]
				if o.fail != nil {
					continue
				}
				if _, err := encode([]R{o.val}); err != nil {
					o.fail = &taskFail{Pos: o.pos, Err: "encoding the result: " + err.Error(), Codec: true}
					found = true
				}
			}
			if !found {
				// Each alone encodes, together they do not: fail them all.
				for i := range outs {
					if outs[i].fail == nil {
						outs[i].fail = &taskFail{Pos: outs[i].pos, Err: "encoding the results: " + err.Error(), Codec: true}
					}
				}
			}
			return flush(w, seq, from, to, outs, retire, encode)
		}
		msg.Values = b
	}
	err := w.results.Send(msg)
	if errors.Is(err, ErrMessageTooLarge) {
		if len(outs) <= 1 {
			for i := range outs {
				outs[i].fail = &taskFail{Pos: outs[i].pos, Err: "the result is too large: " + err.Error(), Codec: true}
			}
			if len(outs) == 0 || len(msg.Fails) == len(outs) {
				return err // a failure's own text is too large: give up
			}
			return flush(w, seq, from, to, outs, retire, encode)
		}
		// Split at a position: the outcomes before it, and the rest.
		mid := len(outs) / 2
		if err := flush(w, seq, from, outs[mid].pos, outs[:mid], false, encode); err != nil {
			return err
		}
		return flush(w, seq, outs[mid].pos, to, outs[mid:], retire, encode)
	}
	return err
}

// poolEncode encodes a value of a pool message, as Conn.Send does.
func poolEncode(v any) ([]byte, error) { return wire.Encode(nil, v) }
