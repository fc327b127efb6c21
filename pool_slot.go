package mp

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// A slot is one place in a pool: a goroutine that keeps a worker, hands
// it chunks of tasks, takes their results home, and when the worker dies
// fails exactly what it held and starts another when there is work.
type slot struct {
	p        *poolCore
	w        *poolWorker
	inflight []*chunk // sent, in order; the first is the one running
	held     *chunk   // a prefetched chunk too big to sit in the pipe: sent when inflight empties
	used     int      // tasks given to w, for WithMaxTasksPerChild
	seq      uint64
	since    time.Time       // when the running task could start (timeouts)
	wake     <-chan struct{} // the pool's changed channel, when waiting for work
	timer    *time.Timer
}

// chunk is a span of tasks sent to a worker as one message.
type chunk struct {
	sp    span
	bad   []int // positions failed before sending (their item could not be encoded), ascending
	got   int   // positions whose outcome has come home
	seq   uint64
	msg   []byte    // the message, until sent
	start time.Time // when the worker could start it
}

func (c *chunk) n() int { return c.sp.hi - c.sp.lo }

// prefetchMax bounds a chunk sent while the worker is busy where the pipe
// does not say how much room it has: the send must never block (the slot
// must stay free to see results, deaths and timeouts). A busy worker has
// read its chunk whole, so the pipe is empty, and every pipe holds 16 KiB.
const prefetchMax = 16 << 10

// room returns how many bytes the task pipe takes without blocking: what
// Linux says, or prefetchMax.
func (w *poolWorker) room() int {
	if w.to.wf != nil {
		if n, ok := taskPipeRoom(w.to.wf); ok {
			return n
		}
	}
	return prefetchMax
}

// poolWorker is a pool's handle on one worker process.
type poolWorker struct {
	proc       *Process
	pid        int
	to         *Conn // tasks, to the worker
	from       *Conn // results, from the worker
	notify     chan struct{}
	readerDone chan struct{}

	mu        sync.Mutex
	q         []*resultMsg // results read, not yet handled
	rerr      error        // why the reader stopped: io.EOF when the worker is gone
	killedFor error        // why the pool killed it, if it did

	// Only the slot's goroutine uses these.
	ready    bool // its initializer has run
	closing  bool // the pool closed its task pipe: it is to exit
	retiring bool // it said it exits after this chunk (memory)
	broken   bool // a send failed, or the slot killed it: it is gone or going
}

// end has the slot kill its worker: nothing more is sent to it, and no
// deadline or cancellation is watched, until its death comes in.
func (s *slot) end(reason error) {
	s.w.broken = true
	s.w.kill(reason)
}

// startWorker starts a worker process and the goroutine reading its
// results.
func (c *poolCore) startWorker() (*poolWorker, error) {
	toR, toW, err := Pipe(false)
	if err != nil {
		return nil, err
	}
	fromR, fromW, err := Pipe(false)
	if err != nil {
		toR.Close()
		toW.Close()
		return nil, err
	}
	wc := c.wc
	if c.cfg.init != nil {
		t, err := lookup(c.cfg.init)
		if err != nil {
			return nil, err
		}
		wc.InitArgs = &initArgs{t: t, Args: c.cfg.initArgs}
	}
	proc := NewProcess(runWorker, toR, fromW, wc)
	proc.Daemon = true
	proc.StartMethod = c.cfg.method
	method := proc.StartMethod
	if method == "" {
		method = GetStartMethod()
	}
	// Python's names: SpawnPoolWorker-3, ForkPoolWorker-3,
	// ForkServerPoolWorker-3.
	prefix := strings.ToUpper(string(method[:1])) + string(method[1:]) + "PoolWorker"
	if method == Forkserver {
		prefix = "ForkServerPoolWorker"
	}
	proc.Name = strings.Replace(proc.Name, "Process", prefix, 1)
	err = proc.Start()
	// The child has its own copies now.
	toR.Close()
	fromW.Close()
	if err != nil {
		toW.Close()
		fromR.Close()
		return nil, err
	}
	w := &poolWorker{proc: proc, pid: proc.PID(), to: toW, from: fromR,
		notify: make(chan struct{}, 1), readerDone: make(chan struct{})}
	go w.read()
	c.mu.Lock()
	terminated := c.state == poolTerminated
	c.live[w] = struct{}{}
	c.mu.Unlock()
	if terminated {
		w.kill(ErrPoolTerminated)
	}
	return w, nil
}

// read reads results until the worker's end closes.
func (w *poolWorker) read() {
	defer close(w.readerDone)
	for {
		m := new(resultMsg)
		err := w.from.Recv(m)
		w.mu.Lock()
		if err != nil {
			w.rerr = err
		} else {
			w.q = append(w.q, m)
		}
		w.mu.Unlock()
		select {
		case w.notify <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

// kill kills the worker; reason is what the tasks it held fail with.
func (w *poolWorker) kill(reason error) {
	w.mu.Lock()
	if w.killedFor == nil {
		w.killedFor = reason
	}
	w.mu.Unlock()
	_ = w.proc.Kill()
}

// reap waits for a worker that has died or been killed, releases it, and
// returns what Join said.
func (w *poolWorker) reap() error {
	<-w.readerDone
	err := w.proc.Join()
	w.to.Close()
	w.from.Close()
	_ = w.proc.Close()
	return err
}

// run is the slot's goroutine.
func (s *slot) run() {
	defer s.p.wg.Done()
	s.timer = time.NewTimer(time.Hour)
	s.timer.Stop()
	for {
		if s.w == nil {
			if !s.awaitWork() {
				return
			}
			w, err := s.p.startWorker()
			if err != nil {
				// A start may fail for a moment (the system short of
				// processes, or Wine's CreateProcess under load): once
				// more, after a pause, before a task pays for it.
				time.Sleep(restartPause)
				w, err = s.p.startWorker()
			}
			if err != nil {
				// Fail a task rather than let it wait for a worker that
				// cannot be had; the next task tries again.
				if sp, ok, _ := s.p.take(1, nil); ok {
					failSpan(sp, fmt.Errorf("mp: starting a pool worker: %w", err))
				}
				continue
			}
			s.w, s.used = w, 0
		}
		s.fill()
		s.wait()
	}
}

// restartPause is how long a slot waits before it tries again to start a
// worker that failed to start.
const restartPause = 100 * time.Millisecond

// awaitWork waits, without a worker, until there are tasks to hand out. It
// returns false when the slot is to end: the pool was terminated, or is
// closed and has nothing left to hand out.
func (s *slot) awaitWork() bool {
	c := s.p
	for {
		c.mu.Lock()
		st, queued, changed := c.state, c.queued, c.changed
		c.mu.Unlock()
		switch {
		case st == poolTerminated:
			return false
		case queued > 0:
			return true
		case st == poolClosed:
			return false
		}
		<-changed
	}
}

// fill sends the worker chunks while it may hold more, and retires it when
// it is idle and the pool is closed and drained, or its task budget is
// spent.
func (s *slot) fill() {
	w, c := s.w, s.p
	s.wake = nil
	if w.closing || w.retiring || w.broken {
		return
	}
	if s.held != nil && len(s.inflight) == 0 {
		ch := s.held
		s.held = nil
		s.transmit(ch)
	}
	for len(s.inflight) < 2 && s.held == nil && !w.broken {
		prefetch := len(s.inflight) > 0
		if prefetch && !w.ready {
			break
		}
		var after *job
		if prefetch {
			after = s.inflight[len(s.inflight)-1].sp.j
		}
		limit := 0
		if m := c.cfg.maxTasks; m > 0 {
			if limit = m - s.used; limit <= 0 {
				break
			}
		}
		sp, ok, changed := c.take(limit, after)
		if !ok {
			s.wake = changed
			break
		}
		ch := s.prepare(sp)
		if ch == nil {
			continue
		}
		s.used += ch.n()
		if prefetch && len(ch.msg) > w.room() {
			s.held = ch
			break
		}
		s.transmit(ch)
	}
	if len(s.inflight) == 0 && s.held == nil && !w.broken {
		spent := c.cfg.maxTasks > 0 && s.used >= c.cfg.maxTasks
		c.mu.Lock()
		drained := c.state == poolClosed && c.queued == 0
		c.mu.Unlock()
		if spent || drained {
			// End of file tells the worker to exit.
			w.closing = true
			w.to.Close()
		}
	}
}

// prepare encodes a span's chunk. Items that cannot be encoded fail here
// and are left out; it returns nil if none is left to send.
func (s *slot) prepare(sp span) *chunk {
	j := sp.j
	for {
		payload, bad, errs := j.encode(sp.lo, sp.hi)
		for k, i := range bad {
			j.out.fail(i, &TaskError{Index: i, Err: errs[k]})
		}
		if len(bad) == sp.hi-sp.lo {
			return nil
		}
		rel := make([]int, len(bad))
		for k, i := range bad {
			rel[k] = i - sp.lo
		}
		s.seq++
		m := &taskMsg{Seq: s.seq, Fn: j.fn, Star: j.star, Stream: s.p.wc.Stream, N: sp.hi - sp.lo, Skip: rel, Items: payload}
		b, err := poolEncode(m)
		if err == nil && len(b) > DefaultMaxMessage {
			if sp.hi-sp.lo > 1 {
				// Too big for one message: send half, give back the rest.
				half := sp.lo + (sp.hi-sp.lo)/2
				s.p.requeue(span{j, half, sp.hi})
				sp.hi = half
				continue
			}
			err = fmt.Errorf("%w: the item's message has %d bytes, over the maximum of %d", ErrMessageTooLarge, len(b), DefaultMaxMessage)
		}
		if err != nil {
			failSpan(sp, err)
			return nil
		}
		return &chunk{sp: sp, bad: bad, seq: s.seq, msg: b}
	}
}

// transmit sends a prepared chunk.
func (s *slot) transmit(ch *chunk) {
	w := s.w
	err := w.to.SendBytes(ch.msg)
	ch.msg = nil
	if err != nil {
		// The worker is gone or going, and never got this chunk; its end
		// of the result pipe will say so.
		w.broken = true
		s.used -= ch.n()
		s.p.requeue(ch.sp)
		return
	}
	if len(s.inflight) == 0 {
		s.since = time.Now()
		ch.start = s.since
	}
	s.inflight = append(s.inflight, ch)
}

// wait waits for one event: results or the worker's death, work to hand
// out, a task's deadline, a cancelled call, or Terminate.
func (s *slot) wait() {
	w, c := s.w, s.p
	var deadline <-chan time.Time
	if d := c.cfg.timeout; d > 0 && w.ready && !w.broken && len(s.inflight) > 0 {
		s.timer.Reset(time.Until(s.since.Add(d)))
		deadline = s.timer.C
		defer s.timer.Stop()
	}
	var cancel <-chan struct{}
	if len(s.inflight) > 0 && s.inflight[0].sp.j.kill && !w.broken {
		cancel = s.inflight[0].sp.j.stopCh
	}
	select {
	case <-w.notify:
		s.drain()
	case <-s.wake:
	case <-deadline:
		s.drain() // a result that raced the deadline wins
		if s.w == w && len(s.inflight) > 0 && !time.Now().Before(s.since.Add(c.cfg.timeout)) {
			s.end(fmt.Errorf("%w after %v", ErrTaskTimeout, c.cfg.timeout))
		}
	case <-cancel:
		s.end(errCancelled)
	case <-c.term:
		w.kill(ErrPoolTerminated)
		<-w.readerDone
		s.drain()
	}
}

// errCancelled is why a worker running a cancelled call's task was killed.
var errCancelled = errors.New("mp: the call was cancelled")

// drain handles what the reader has read, and the worker's death once its
// end has closed.
func (s *slot) drain() {
	w := s.w
	w.mu.Lock()
	q, rerr := w.q, w.rerr
	w.q = nil
	w.mu.Unlock()
	for _, m := range q {
		// Results that came before a death or a kill are real; after a
		// message out of step, nothing is.
		if err := s.handle(m); err != nil {
			s.end(err)
			break
		}
	}
	if rerr != nil {
		s.died(rerr)
	}
}

// handle takes one message of the worker home.
func (s *slot) handle(m *resultMsg) error {
	w := s.w
	if m.Ready {
		w.ready = true
		s.since = time.Now()
		if len(s.inflight) > 0 {
			s.inflight[0].start = s.since // its initializer's time is not the chunk's
		}
		s.p.mu.Lock()
		s.p.faults = 0
		s.p.mu.Unlock()
		return nil
	}
	if len(s.inflight) == 0 {
		return fmt.Errorf("%w: a pool worker sent results it was not asked for", ErrBadMessage)
	}
	ch := s.inflight[0]
	n := ch.n()
	if m.Seq != ch.seq || m.From != ch.got || m.Count <= 0 || m.Count > n-ch.got {
		return fmt.Errorf("%w: a pool worker sent results out of order", ErrBadMessage)
	}
	j, lo := ch.sp.j, ch.sp.lo
	failed := make(map[int]bool, len(m.Fails))
	for _, f := range m.Fails {
		if f.Pos < m.From || f.Pos >= m.From+m.Count || failed[f.Pos] {
			return fmt.Errorf("%w: a pool worker sent a failure out of range", ErrBadMessage)
		}
		failed[f.Pos] = true
	}
	for _, f := range m.Fails {
		j.out.fail(lo+f.Pos, &TaskError{Index: lo + f.Pos, Err: f.error(w)})
	}
	var idx []int
	b := 0
	for pos := m.From; pos < m.From+m.Count; pos++ {
		for b < len(ch.bad) && ch.bad[b]-lo < pos {
			b++
		}
		if (b < len(ch.bad) && ch.bad[b]-lo == pos) || failed[pos] {
			continue
		}
		idx = append(idx, lo+pos)
	}
	if len(idx) > 0 {
		if err := j.out.values(idx, m.Values); err != nil {
			for _, i := range idx {
				j.out.fail(i, &TaskError{Index: i, Err: err})
			}
		}
	}
	ch.got += m.Count
	s.since = time.Now()
	if ch.got == n {
		if !ch.start.IsZero() {
			s.p.observe(j.fn, n, s.since.Sub(ch.start))
		}
		s.inflight[0] = nil
		s.inflight = s.inflight[1:]
		if len(s.inflight) > 0 {
			s.inflight[0].start = s.since
		}
	}
	if m.Retire {
		w.retiring = true
	}
	return nil
}

// died handles the death of the slot's worker: it fails the tasks the
// worker held, gives back the chunks it had not started, and leaves the
// slot without a worker.
func (s *slot) died(rerr error) {
	w, c := s.w, s.p
	if !errors.Is(rerr, io.EOF) {
		// The stream is out of step (or our end closed): end the worker.
		w.kill(fmt.Errorf("mp: reading a pool worker's results: %w", rerr))
	}
	jerr := w.reap()
	c.mu.Lock()
	delete(c.live, w)
	c.mu.Unlock()
	w.mu.Lock()
	killed := w.killedFor
	w.mu.Unlock()
	held := s.inflight
	if s.held != nil {
		held = append(held, s.held)
	}
	s.w, s.inflight, s.held = nil, nil, nil

	ee, _ := jerr.(*ExitError)
	if ee == nil {
		// It exited with 0 (os.Exit(0) in a task, or a clean exit).
		code, _ := w.proc.ExitCode()
		ee = &ExitError{Name: w.proc.Name, PID: w.pid, Code: code, Err: "the pool worker exited while it held the task"}
	}

	if !w.ready && killed == nil {
		// It died before its initializer returned: nothing it held had
		// started.
		for _, ch := range held {
			c.requeue(ch.sp)
		}
		switch {
		case ee.Err != "" || ee.Panic != "":
			// Its initializer failed, or it could not run at all (a
			// missing main guard): so would the next.
			c.breakPool(fmt.Errorf("%w: %w", ErrPoolBroken, ee))
		case ee.Code < 0:
			// Killed by a signal, from outside: the next may do better.
		default:
			// It exited, or crashed, by itself: three in a row, with no
			// worker ready in between, is a loop.
			c.mu.Lock()
			c.faults++
			faults := c.faults
			c.mu.Unlock()
			if faults >= 3 {
				c.breakPool(fmt.Errorf("%w: %w", ErrPoolBroken, ee))
			}
		}
		return
	}
	if len(held) == 0 {
		return
	}
	if w.retiring && killed == nil {
		// It said it would exit after its last chunk: what it still held
		// was sent after that, and never started.
		for _, ch := range held {
			c.requeue(ch.sp)
		}
		return
	}
	var cause error = ee
	if killed != nil {
		cause = &causeError{killed, ee}
	}
	run := held[0]
	j, lo, n := run.sp.j, run.sp.lo, run.n()
	upto := n
	if c.wc.Stream && run.got < n {
		// Results come one by one: the first missing one was running; the
		// rest of the chunk never started.
		upto = run.got + 1
		c.requeue(span{j, lo + upto, run.sp.hi})
	}
	b := 0
	for pos := run.got; pos < upto; pos++ {
		for b < len(run.bad) && run.bad[b]-lo < pos {
			b++
		}
		if b < len(run.bad) && run.bad[b]-lo == pos {
			continue
		}
		j.out.fail(lo+pos, &TaskError{Index: lo + pos, Err: cause})
	}
	for _, ch := range held[1:] {
		c.requeue(ch.sp)
	}
}

// causeError is why the pool killed a worker, and how the worker ended.
type causeError struct {
	why  error
	exit *ExitError
}

func (e *causeError) Error() string {
	return e.why.Error() + ": " + strings.TrimPrefix(e.exit.Error(), "mp: ")
}

func (e *causeError) Unwrap() []error { return []error{e.why, e.exit} }

// error turns a worker's report of a failed task into the task's error.
func (f *taskFail) error(w *poolWorker) error {
	if f.Codec {
		return fmt.Errorf("%w: %s", ErrBadMessage, f.Err)
	}
	return &ExitError{Name: w.proc.Name, PID: w.pid, Code: 1, Err: f.Err, ErrType: f.ErrType,
		Panic: f.Panic, Stack: f.Stack, task: true}
}
