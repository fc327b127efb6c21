package mp

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// Pool is a pool of worker processes that run registered functions on
// items, like Python's multiprocessing.Pool: [Map], [Imap],
// [ImapUnordered], [Starmap], [Apply] and their Async and Context forms
// hand it tasks.
//
// The workers are daemon processes running the same binary (see [Main]),
// started by NewPool. Each is fed by a goroutine of the pool that gives it
// a chunk of tasks at a time and waits for the results, so that when a
// worker dies (killed, os.Exit, a fatal runtime error) the pool knows which
// tasks it held: those fail with the worker's [*ExitError], a new worker
// takes its place when there is work for it, and every other task goes on.
// Python's Pool hangs then (bpo-22393), and ProcessPoolExecutor fails every
// task (BrokenProcessPool).
//
// A Pool is safe for concurrent use. Close it, or Terminate it, and Join
// it, as Python's rules say:
//
//	p, err := mp.NewPool(4)
//	if err != nil { ... }
//	defer p.Join()
//	defer p.Close()
//
// A pool that the program forgets is terminated once it is unreachable and
// its calls have ended (Python terminates it when it is garbage collected;
// a queued or running call keeps it reachable),
// and its workers, being daemons, are terminated by [Shutdown] and never
// outlive the program.
type Pool struct {
	c *poolCore
}

// A PoolOption configures a Pool; see NewPool.
type PoolOption interface {
	apply(*poolConfig)
}

type poolOptionFunc func(*poolConfig)

func (f poolOptionFunc) apply(c *poolConfig) { f(c) }

type poolConfig struct {
	init      any // initializer, nil if none
	initArgs  []any
	maxTasks  int
	method    StartMethod
	timeout   time.Duration
	maxMemory uint64
	errs      []error // options given bad values
}

// WithInitializer makes every worker call fn(args...) once, as it starts,
// before it runs any task: Python's initializer and initargs. fn is a
// registered top-level function returning nothing or an error; args are
// checked and encoded as a Process's are, and may carry Conns and queues:
// this is how a worker gets one (an item holding a Conn or a queue fails
// its task with ErrBadMessage, as the worker does not hold its files).
//
// An initializer that returns an error or panics breaks the pool: the
// tasks it would have run, and every later call, fail with an error
// wrapping ErrPoolBroken and the worker's *ExitError. (Python's Pool
// starts new workers for ever instead.) A worker killed by a signal before
// its initializer returned is replaced; three that exit or crash by
// themselves (os.Exit, a fatal runtime error) in a row, with no worker
// ready in between, break the pool too.
func WithInitializer(fn any, args ...any) PoolOption {
	return poolOptionFunc(func(c *poolConfig) { c.init, c.initArgs = fn, args })
}

// WithMaxTasksPerChild makes each worker exit after n tasks and a new one
// take its place (Python's maxtasksperchild), to free what a leaky task
// function holds. A task is one item: a worker is never given more than
// its remaining n in one chunk. Python's Pool counts chunks instead. n must
// be at least 1; without this option workers live as long as the pool.
func WithMaxTasksPerChild(n int) PoolOption {
	return poolOptionFunc(func(c *poolConfig) {
		if n < 1 {
			c.errs = append(c.errs, fmt.Errorf("%w: WithMaxTasksPerChild(%d): must be at least 1", ErrArgs, n))
		}
		c.maxTasks = n
	})
}

// WithStartMethod sets the workers' start method. Without it the pool uses
// the method set with SetStartMethod (Spawn unless changed). Under Fork the
// workers get the globals registered with isolation.Inherit as of the
// moment each worker starts: a worker that replaces another sees their
// values then, not as of NewPool. Under Forkserver each worker, a
// replacement included, is a child that waited for work if one does (see
// SetForkserverPreload: a pool of n workers starts fastest with n
// waiting).
func WithStartMethod(m StartMethod) PoolOption {
	return poolOptionFunc(func(c *poolConfig) {
		if !m.valid() {
			c.errs = append(c.errs, fmt.Errorf("%w: %q", ErrInvalidStartMethod, string(m)))
		}
		c.method = m
	})
}

// WithTaskTimeout bounds each task's run time: the worker running a task
// for longer than d is killed and replaced, and the task fails with an
// error wrapping ErrTaskTimeout and the worker's *ExitError. The other
// tasks of its chunk have not started; they go back to the queue. The time
// counts from when the worker could start the task (the result of the one
// before it arrived), so it includes the time to carry the result home: a
// millisecond at most on an idle machine. With a timeout set, workers send
// each result as soon as it is ready rather than a chunk's together, which
// costs some throughput on tiny tasks. d must be positive; without this
// option tasks may run for ever (Python's Pool has no such bound).
func WithTaskTimeout(d time.Duration) PoolOption {
	return poolOptionFunc(func(c *poolConfig) {
		if d <= 0 {
			c.errs = append(c.errs, fmt.Errorf("%w: WithTaskTimeout(%v): must be positive", ErrArgs, d))
		}
		c.timeout = d
	})
}

// WithMaxMemory recycles a worker whose resident memory exceeds n bytes:
// it finishes its chunk, sends the results and exits, and a new worker
// takes its place (joblib's loky does the same, with psutil). A worker measures itself
// after each chunk, so a chunk can overshoot; a smaller chunk size bounds
// that. Linux reads /proc/self/statm, Windows GetProcessMemoryInfo; macOS
// and the BSDs have only the peak (getrusage's ru_maxrss), so there a
// worker is recycled once its peak has passed n. n must be positive;
// without this option memory is not watched.
func WithMaxMemory(n uint64) PoolOption {
	return poolOptionFunc(func(c *poolConfig) {
		if n == 0 {
			c.errs = append(c.errs, fmt.Errorf("%w: WithMaxMemory(0): must be positive", ErrArgs))
		}
		c.maxMemory = n
	})
}

// NewPool starts a pool of processes workers, or CPUCount() if processes
// is 0 (Python's None); a negative count is an error. It returns once every
// worker has been started (not once their initializers have run). An
// initializer that is not registered, arguments that do not fit it, or a
// start that fails make NewPool start nothing, or end what it started, and
// return the error.
func NewPool(processes int, opts ...PoolOption) (*Pool, error) {
	if processes < 0 {
		return nil, fmt.Errorf("%w: NewPool(%d): the number of processes must be at least 1, or 0 for CPUCount()", ErrArgs, processes)
	}
	if processes == 0 {
		processes = CPUCount()
	}
	var cfg poolConfig
	for _, o := range opts {
		o.apply(&cfg)
	}
	if len(cfg.errs) > 0 {
		return nil, cfg.errs[0]
	}
	wc := workerConfig{Stream: cfg.timeout > 0, MaxMemory: cfg.maxMemory}
	if cfg.init != nil {
		t, err := lookup(cfg.init)
		if err != nil {
			return nil, fmt.Errorf("mp: pool initializer: %w", err)
		}
		if t.typ != nil || t.returnsResult() {
			return nil, fmt.Errorf("%w: the pool initializer %s must be a function returning nothing or an error", ErrInvalidTarget, t.display())
		}
		if _, err := t.convertArgs(cfg.initArgs); err != nil {
			return nil, err
		}
		wc.Init = t.name
	}
	c := &poolCore{
		cfg:     cfg,
		wc:      wc,
		changed: make(chan struct{}),
		term:    make(chan struct{}),
		live:    map[*poolWorker]struct{}{},
	}
	c.slots = make([]*slot, processes)
	for i := range c.slots {
		c.slots[i] = &slot{p: c}
	}
	// Start the workers together, so that the children boot in parallel,
	// but at most startsAtOnce at a time: Linux creates children one at a
	// time anyway (see launch_linux.go), and under Wine one of 200
	// CreateProcess calls at once was seen never to return.
	errs := make([]error, processes)
	var wg sync.WaitGroup
	sem := make(chan struct{}, startsAtOnce)
	for i, s := range c.slots {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s.w, errs[i] = c.startWorker()
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			for _, s := range c.slots {
				if s.w != nil {
					_ = s.w.proc.Kill()
					s.w.reap()
				}
			}
			return nil, err
		}
	}
	c.wg.Add(len(c.slots))
	for _, s := range c.slots {
		go s.run()
	}
	p := &Pool{c: c}
	runtime.AddCleanup(p, (*poolCore).terminate, c)
	return p, nil
}

// startsAtOnce bounds the worker starts NewPool has under way.
const startsAtOnce = 8

// Close stops the pool accepting calls: later calls fail with
// ErrPoolClosed. The tasks already handed to it run to the end; then the
// workers exit. Closing a closed or terminated pool does nothing.
func (p *Pool) Close() error {
	c := p.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == poolRunning {
		c.state = poolClosed
		c.bump()
	}
	return nil
}

// Terminate stops the pool at once, as Python's terminate does: it kills
// the workers (SIGKILL on Unix, TerminateProcess on Windows), fails every
// task that had not finished with an error wrapping ErrPoolTerminated (a
// running task's error wraps the worker's *ExitError too), and returns once
// the workers have exited. Later calls fail with ErrPoolClosed.
// Terminating a terminated pool does nothing.
func (p *Pool) Terminate() error {
	p.c.terminate()
	return nil
}

// Join waits for the workers to exit, after Close or Terminate; before
// either it returns ErrPoolRunning at once (it would wait for ever). Join
// may be called any number of times.
func (p *Pool) Join() error {
	c := p.c
	c.mu.Lock()
	st := c.state
	c.mu.Unlock()
	if st == poolRunning {
		return ErrPoolRunning
	}
	c.wg.Wait()
	// The cleanup that terminates a forgotten Pool must not run while
	// Join waits for it.
	runtime.KeepAlive(p)
	return nil
}

// String describes p like Python's repr: its state and size.
func (p *Pool) String() string {
	c := p.c
	c.mu.Lock()
	defer c.mu.Unlock()
	st := map[poolState]string{poolRunning: "RUN", poolClosed: "CLOSE", poolTerminated: "TERMINATE"}[c.state]
	return fmt.Sprintf("<Pool state=%s pool_size=%d>", st, len(c.slots))
}

type poolState int

const (
	poolRunning poolState = iota
	poolClosed
	poolTerminated
)

// poolCore is a Pool's state. Its goroutines refer to it, never to the
// Pool, so that a forgotten Pool can be collected and its cleanup run.
type poolCore struct {
	cfg   poolConfig
	wc    workerConfig
	slots []*slot
	wg    sync.WaitGroup // the slots' goroutines

	mu      sync.Mutex
	state   poolState
	jobs    []*job        // calls with tasks not yet handed out, oldest first
	queued  int           // tasks not yet handed out, over all jobs
	changed chan struct{} // closed and replaced when work comes or the state changes
	term    chan struct{} // closed by terminate
	broken  error         // why the pool cannot run tasks (ErrPoolBroken)
	faults  int           // workers that died before ready, in a row
	// taskTime is how long a task of each function takes, in ns, with the
	// trip home: a moving average over chunks, for prefetching.
	taskTime map[string]int64
	live     map[*poolWorker]struct{}
}

// bump wakes the slots that wait for work or a change of state. c.mu is
// held.
func (c *poolCore) bump() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// submit queues j, or returns why it cannot be run.
func (c *poolCore) submit(j *job) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.state != poolRunning:
		return ErrPoolClosed
	case c.broken != nil:
		return c.broken
	}
	if j.n == 0 {
		return nil
	}
	j.queued = true
	c.jobs = append(c.jobs, j)
	c.queued += j.n
	c.bump()
	return nil
}

// span is a range of a job's items, [lo, hi).
type span struct {
	j      *job
	lo, hi int
}

// take hands out the next span of at most limit tasks (0: no limit). When
// it hands out nothing it returns the channel that the next change of the
// queue closes.
//
// A prefetch, for a worker that is busy running a chunk of job after, is a
// chunk sent behind that one so that the worker need not wait a round trip
// for it. It is granted only from the same job, once its function's tasks
// have been seen to make chunks shorter than prefetchBelow, and while the
// job has enough left for every other worker too: a prefetched chunk waits
// for the one before it, and must never wait long, nor while a worker is
// idle.
func (c *poolCore) take(limit int, after *job) (span, bool, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == poolTerminated || c.broken != nil {
		return span{}, false, c.changed
	}
	if after != nil {
		j := after
		per := c.taskTime[j.fn]
		if !j.queued || j.stopped || per == 0 || per*int64(j.chunk) > int64(prefetchBelow) ||
			j.unhanded() < j.chunk*(len(c.slots)+1) {
			return span{}, false, c.changed
		}
		return c.cut(j, limit), true, nil
	}
	for len(c.jobs) > 0 {
		j := c.jobs[0]
		if j.stopped || (len(j.back) == 0 && j.next >= j.n) {
			j.queued = false
			c.jobs[0] = nil
			c.jobs = c.jobs[1:]
			continue
		}
		return c.cut(j, limit), true, nil
	}
	return span{}, false, c.changed
}

// prefetchBelow is the chunk time under which a busy worker is sent its
// next chunk ahead: over it, the round trip saved is under 0.5%.
const prefetchBelow = 20 * time.Millisecond

// cut hands out j's next span of at most limit tasks. c.mu is held, and j
// has tasks left.
func (c *poolCore) cut(j *job, limit int) span {
	if limit <= 0 {
		limit = j.n
	}
	var sp span
	if len(j.back) > 0 {
		sp = j.back[0]
		if sp.hi-sp.lo > limit {
			j.back[0].lo = sp.lo + limit
			sp.hi = sp.lo + limit
		} else {
			j.back = j.back[1:]
		}
	} else {
		sp = span{j, j.next, min(j.n, j.next+j.chunk, j.next+limit)}
		j.next = sp.hi
	}
	c.queued -= sp.hi - sp.lo
	return sp
}

// requeue gives back a span that a worker was sent but never started, to
// be handed out before the job's other tasks. In a terminated or broken
// pool the span's tasks fail instead; a stopped job's are dropped.
func (c *poolCore) requeue(sp span) {
	if sp.hi <= sp.lo {
		return
	}
	c.mu.Lock()
	j := sp.j
	var fail error
	switch {
	case j.stopped:
	case c.state == poolTerminated:
		fail = ErrPoolTerminated
	case c.broken != nil:
		fail = c.broken
	default:
		c.putBack(sp)
	}
	c.mu.Unlock()
	if fail != nil {
		failSpan(sp, fail)
	}
}

// putBack puts sp at the head of the queue. c.mu is held.
func (c *poolCore) putBack(sp span) {
	j := sp.j
	// In index order, so that Imap's next results come first.
	i := 0
	for i < len(j.back) && j.back[i].lo < sp.lo {
		i++
	}
	j.back = append(j.back[:i], append([]span{sp}, j.back[i:]...)...)
	c.queued += sp.hi - sp.lo
	if !j.queued {
		j.queued = true
		c.jobs = append([]*job{j}, c.jobs...)
	}
	c.bump()
}

// stop withdraws j: nothing more of it is handed out, and its tasks not yet
// handed out are settled with err (by the caller's sink).
func (c *poolCore) stop(j *job) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if j.stopped {
		return
	}
	j.stopped = true
	close(j.stopCh)
	c.queued -= j.unhanded()
}

// breakPool records that workers cannot start: every task not yet handed
// out fails with err, and so does every later call.
func (c *poolCore) breakPool(err error) {
	c.mu.Lock()
	if c.broken != nil {
		c.mu.Unlock()
		return
	}
	c.broken = err
	spans := c.dropQueue()
	c.bump()
	c.mu.Unlock()
	for _, sp := range spans {
		failSpan(sp, err)
	}
}

// dropQueue empties the queue and returns the spans it held. c.mu is held.
func (c *poolCore) dropQueue() []span {
	var spans []span
	for _, j := range c.jobs {
		j.queued = false
		if j.stopped {
			continue
		}
		spans = append(spans, j.back...)
		spans = append(spans, span{j, j.next, j.n})
		j.back, j.next = nil, j.n
	}
	c.jobs, c.queued = nil, 0
	return spans
}

// terminate is Terminate, and the cleanup of a forgotten Pool.
func (c *poolCore) terminate() {
	c.mu.Lock()
	if c.state == poolTerminated {
		c.mu.Unlock()
		c.wg.Wait()
		return
	}
	c.state = poolTerminated
	spans := c.dropQueue()
	live := make([]*poolWorker, 0, len(c.live))
	for w := range c.live {
		live = append(live, w)
	}
	close(c.term)
	c.bump()
	c.mu.Unlock()
	// Kill first: the tasks running now fail as their workers die.
	for _, w := range live {
		w.kill(ErrPoolTerminated)
	}
	for _, sp := range spans {
		failSpan(sp, ErrPoolTerminated)
	}
	c.wg.Wait()
}

// job is one call's tasks.
type job struct {
	fn     string // the task function's registered name
	star   bool   // items are argument lists (Starmap)
	n      int
	chunk  int
	kill   bool // kill the workers running its tasks when stopped
	encode func(lo, hi int) (payload []byte, bad []int, errs []error)
	out    sink
	stopCh chan struct{} // closed by stop
	pool   *Pool         // kept reachable while the job is: its cleanup terminates the pool

	// Under the pool's mu:
	next    int    // the first item never handed out
	back    []span // spans given back, handed out first
	queued  bool   // in the pool's jobs
	stopped bool
}

// newJob prepares a job of n items for fn.
func newJob(fn *target, n, chunk int, out sink, cc callConfig) *job {
	return &job{fn: fn.name, n: n, chunk: chunk, kill: cc.kill, out: out, stopCh: make(chan struct{})}
}

// observe records that a chunk of n tasks of fn took d.
func (c *poolCore) observe(fn string, n int, d time.Duration) {
	per := max(int64(d)/int64(n), 1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.taskTime[fn]; old != 0 {
		per = max((7*old+per)/8, 1)
	}
	if c.taskTime == nil {
		c.taskTime = map[string]int64{}
	}
	c.taskTime[fn] = per
}

// unhanded counts the tasks not yet handed out. The pool's mu is held.
func (j *job) unhanded() int {
	n := j.n - j.next
	for _, sp := range j.back {
		n += sp.hi - sp.lo
	}
	return n
}

func failSpan(sp span, err error) {
	for i := sp.lo; i < sp.hi; i++ {
		sp.j.out.fail(i, &TaskError{Index: i, Err: err})
	}
}

// callConfig is what CallOptions set.
type callConfig struct {
	chunk int // 0: the call's default
	kill  bool
	errs  []error
}

// A CallOption configures one call of a Pool: Map, Imap, Apply and the
// others.
type CallOption interface {
	applyCall(*callConfig)
}

type callOptionFunc func(*callConfig)

func (f callOptionFunc) applyCall(c *callConfig) { f(c) }

// WithChunksize sets how many tasks a worker is given at a time: Python's
// chunksize. Larger chunks make tiny tasks cheap; smaller ones spread
// uneven tasks better and lose less to a dying worker. Without it Map,
// MapAsync, Starmap and StarmapAsync use Python's rule, len(items) / (4 *
// workers) rounded up, and Imap and ImapUnordered use 1. n must be at least
// 1.
func WithChunksize(n int) CallOption {
	return callOptionFunc(func(c *callConfig) {
		if n < 1 {
			c.errs = append(c.errs, fmt.Errorf("%w: WithChunksize(%d): must be at least 1", ErrArgs, n))
		}
		c.chunk = n
	})
}

// WithKillOnCancel makes cancelling a call (its context, or breaking out of
// an Imap loop) kill the workers that are running its tasks, rather than
// let those tasks finish and drop their results. The killed workers are
// replaced.
func WithKillOnCancel() CallOption {
	return callOptionFunc(func(c *callConfig) { c.kill = true })
}

func callOptions(opts []CallOption) (callConfig, error) {
	var cc callConfig
	for _, o := range opts {
		o.applyCall(&cc)
	}
	if len(cc.errs) > 0 {
		return cc, cc.errs[0]
	}
	return cc, nil
}

// mapChunk is Python's default chunk size for map: len / (4 * workers),
// rounded up.
func (c *poolCore) mapChunk(n int) int {
	d := 4 * len(c.slots)
	return max(1, (n+d-1)/d)
}

// ctxErr returns ctx's error, without blocking.
func ctxErr(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	default:
		return nil
	}
}
