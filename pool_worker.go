package mp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime/debug"
	"time"
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

// initArgs carries the initializer's arguments. Start encodes it with the
// worker's other arguments, so that Conns and queues among them cross as a
// Process's arguments do; the worker decodes them after it has its files.
type initArgs struct {
	t    *target
	args []any
	b    []byte // in the worker
}

// MarshalBinary encodes the arguments as a Process's are encoded.
func (a *initArgs) MarshalBinary() ([]byte, error) {
	b, err := a.t.encodeArgs(nil, a.args)
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
		if err := t.call(in); err != nil {
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
type outcome struct {
	pos  int
	val  reflect.Value
	fail *taskFail
}

// run runs a chunk and sends its outcomes. It reports whether the worker
// is to exit now (WithMaxMemory), and an error if it cannot send.
func (w *worker) run(m *taskMsg) (retire bool, err error) {
	if m.N <= 0 {
		return false, fmt.Errorf("%w: empty chunk", ErrBadMessage)
	}
	skip := make(map[int]bool, len(m.Skip))
	for _, p := range m.Skip {
		skip[p] = true
	}
	var pending []outcome
	failAll := func(f taskFail) error {
		for p := range m.N {
			if !skip[p] {
				f.Pos = p
				pending = append(pending, outcome{pos: p, fail: &f})
			}
		}
		return w.flush(m.Seq, 0, m.N, pending, false)
	}
	t, err := w.target(m.Fn)
	if err != nil {
		return false, failAll(taskFail{Err: err.Error(), ErrType: fmt.Sprintf("%T", err)})
	}
	ft := t.fn.Type()
	itemType := ft.In(0)
	if m.Star {
		itemType = argsType(ft)
	} else if ft.NumIn() != 1 {
		return false, failAll(taskFail{Err: fmt.Sprintf("mp: %s takes %d arguments, not one item", t.display(), ft.NumIn())})
	}
	items := reflect.New(reflect.SliceOf(itemType))
	if err := decodeValue(m.Items, items.Interface()); err != nil {
		return false, failAll(taskFail{Err: "decoding the item: " + err.Error(), Codec: true})
	}
	if items.Elem().Len() != m.N-len(skip) {
		return false, failAll(taskFail{Err: "the chunk holds the wrong number of items", Codec: true})
	}
	from, k := 0, 0
	last := time.Now()
	in := make([]reflect.Value, 1)
	for p := range m.N {
		if !skip[p] {
			v := items.Elem().Index(k)
			k++
			if m.Star {
				in = in[:0]
				for i := range v.NumField() {
					in = append(in, v.Field(i))
				}
			} else {
				in[0] = v
			}
			pending = append(pending, callTask(t, in, p))
		}
		if p == m.N-1 {
			if w.cfg.MaxMemory > 0 {
				rss, err := residentMemory()
				retire = err == nil && rss > w.cfg.MaxMemory
			}
			return retire, w.flush(m.Seq, from, m.N, pending, retire)
		}
		if m.Stream || time.Since(last) >= flushEvery {
			if err := w.flush(m.Seq, from, p+1, pending, false); err != nil {
				return false, err
			}
			from, pending, last = p+1, pending[:0], time.Now()
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

// callTask calls the task function, recovering a panic with its stack.
func callTask(t *target, in []reflect.Value, pos int) (o outcome) {
	o.pos = pos
	defer func() {
		if r := recover(); r != nil {
			o.fail = &taskFail{Pos: pos, Panic: fmt.Sprint(r), Stack: string(debug.Stack())}
		}
	}()
	var out []reflect.Value
	if t.fn.Type().IsVariadic() {
		out = t.fn.CallSlice(in)
	} else {
		out = t.fn.Call(in)
	}
	if err, _ := out[1].Interface().(error); err != nil {
		return outcome{pos: pos, fail: &taskFail{Pos: pos, Err: err.Error(), ErrType: fmt.Sprintf("%T", err)}}
	}
	o.val = out[0]
	return o
}

// flush sends the outcomes of positions from..to. Results that cannot be
// encoded fail alone; a message over the maximum is split.
func (w *worker) flush(seq uint64, from, to int, outs []outcome, retire bool) error {
	msg := &resultMsg{Seq: seq, From: from, Count: to - from, Retire: retire}
	var vals reflect.Value
	for _, o := range outs {
		if o.fail != nil {
			msg.Fails = append(msg.Fails, *o.fail)
			continue
		}
		if !vals.IsValid() {
			vals = reflect.MakeSlice(reflect.SliceOf(o.val.Type()), 0, len(outs))
		}
		vals = reflect.Append(vals, o.val)
	}
	if vals.IsValid() {
		b, err := poolEncode(vals.Interface())
		if err != nil {
			// Find the results that cannot be encoded; they fail alone.
			for i := range outs {
				o := &outs[i]
				if o.fail != nil {
					continue
				}
				if _, err := poolEncode(o.val.Interface()); err != nil {
					o.fail = &taskFail{Pos: o.pos, Err: "encoding the result: " + err.Error(), Codec: true}
					o.val = reflect.Value{}
				}
			}
			if vals.Len() > 0 && !hasFail(outs, vals.Len()) {
				// Each alone encodes, together they do not: fail them all.
				for i := range outs {
					if outs[i].fail == nil {
						outs[i].fail = &taskFail{Pos: outs[i].pos, Err: "encoding the results: " + err.Error(), Codec: true}
					}
				}
			}
			return w.flush(seq, from, to, outs, retire)
		}
		msg.Values = b
	}
	err := w.results.Send(msg)
	if errors.Is(err, ErrMessageTooLarge) {
		if len(outs) <= 1 {
			for i := range outs {
				outs[i].fail = &taskFail{Pos: outs[i].pos, Err: "the result is too large: " + err.Error(), Codec: true}
				outs[i].val = reflect.Value{}
			}
			return w.flush(seq, from, to, outs, retire)
		}
		// Split at a position: the outcomes before it, and the rest.
		half := outs[len(outs)/2].pos
		if err := w.flush(seq, from, half, outs[:len(outs)/2], false); err != nil {
			return err
		}
		return w.flush(seq, half, to, outs[len(outs)/2:], retire)
	}
	return err
}

// hasFail reports whether fewer than n of outs are still to be encoded,
// that is, whether looking at them one by one found a culprit.
func hasFail(outs []outcome, n int) bool {
	left := 0
	for _, o := range outs {
		if o.fail == nil {
			left++
		}
	}
	return left < n
}

// poolEncode encodes a value of a pool message, as Conn.Send does.
func poolEncode(v any) ([]byte, error) {
	passing.RLock()
	defer passing.RUnlock()
	return encodeValue(nil, v)
}
