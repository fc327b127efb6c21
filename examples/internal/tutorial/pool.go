package tutorial

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/schollz/progressbar/v3"

	"github.com/go-mp/mp"
)

// PoolConfig sizes the Pool step.
type PoolConfig struct {
	Workers  int           // pool size; 0: CPUCount()
	Slow     time.Duration // the task that apply_async gives up on
	Timeout  time.Duration // how long GetTimeout waits for it
	Files    []string      // word count input; none: a built-in text
	Progress io.Writer     // where the progress bar over Imap draws; nil: standard error
	Items    int           // tasks under the progress bar
}

// The task functions of the Pool step. Registered with mp.Task (see
// tutorial.go), so that the workers call them without reflect.

// square is the docs' f: x*x.
func square(x int) (int, error) { return x * x, nil }

// pidAfter sleeps d and returns the worker's PID.
func pidAfter(d time.Duration) (int, error) {
	time.Sleep(d)
	return os.Getpid(), nil
}

// dieNow kills its own worker mid-task, as the OOM killer or a crash
// would.
func dieNow(int) (int, error) {
	p, _ := os.FindProcess(os.Getpid()) // ourselves: no PID reuse
	_ = p.Kill()
	select {}
}

// countWords is the map step of the word count: the words of one text,
// counted. PyMOTW's mapper emits (word, 1) pairs; counting at once sends
// fewer bytes home.
func countWords(text string) (map[string]int, error) {
	counts := map[string]int{}
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' }) {
		w = strings.Trim(w, "'")
		if len(w) > 3 { // PyMOTW skips short words too
			counts[w]++
		}
	}
	return counts, nil
}

// WordCount is a word and how often it occurs.
type WordCount struct {
	Word  string
	Count int
}

// sumCounts is the reduce step: one partition of the words, each with the
// counts the mappers found, summed.
func sumCounts(part map[string][]int) ([]WordCount, error) {
	out := make([]WordCount, 0, len(part))
	for w, cs := range part {
		n := 0
		for _, c := range cs {
			n += c
		}
		out = append(out, WordCount{w, n})
	}
	return out, nil
}

// Pool shows a pool of worker processes, Python's multiprocessing.Pool:
// the docs' map, imap_unordered, apply_async with a timeout, a worker
// killed mid-task, a word count in map-reduce form, and a progress bar
// over Imap.
func Pool(cfg PoolConfig) error {
	p, err := mp.NewPool(cfg.Workers)
	if err != nil {
		return err
	}
	// Close, then Join: Python's "with Pool() as p" terminates instead.
	defer p.Join()
	defer p.Close()
	say("main: %v", p)

	// with Pool(5) as p: print(p.map(f, [1, 2, 3]))
	squares, err := mp.Map(p, square, []int{1, 2, 3})
	if err != nil {
		return err
	}
	say("map: %v", squares)

	// print(sorted(pool.imap_unordered(f, range(10))))
	var got []int
	for v, err := range mp.ImapUnordered(p, square, ints(10)) {
		if err != nil {
			return err
		}
		got = append(got, v)
	}
	slices.Sort(got)
	say("imap_unordered, sorted: %v", got)

	// Several workers at once: res = [pool.apply_async(os.getpid, ()) ...]
	pids := map[int]bool{}
	pidList, err := mp.Map(p, pidAfter, []time.Duration{50 * time.Millisecond, 50 * time.Millisecond,
		50 * time.Millisecond, 50 * time.Millisecond}, mp.WithChunksize(1))
	if err != nil {
		return err
	}
	for _, pid := range pidList {
		pids[pid] = true
	}
	say("4 tasks of 50ms ran in %d worker processes", len(pids))

	// res = pool.apply_async(time.sleep, (10,)); res.get(timeout=1)
	// raises TimeoutError, and the task goes on. Here the call is also
	// cancelled, and its worker killed, so that Close need not wait.
	ctx, cancel := context.WithCancel(context.Background())
	slow := mp.ApplyAsyncContext(ctx, p, pidAfter, cfg.Slow, mp.WithKillOnCancel())
	_, err = slow.GetTimeout(cfg.Timeout)
	say("apply_async(sleep %v).get(timeout=%v): ErrNotReady=%v", cfg.Slow, cfg.Timeout, errors.Is(err, mp.ErrNotReady))
	cancel()
	_, err = slow.Get()
	say("cancelled with WithKillOnCancel: %v", err)

	// A worker killed mid-task: the task fails with the worker's exit
	// code, a new worker takes its place, the other tasks complete.
	// (Python's Pool hangs here; ProcessPoolExecutor fails every task.)
	r := mp.ApplyAsync(p, dieNow, 0)
	after, err2 := mp.Map(p, square, []int{4, 5, 6})
	_, err = r.Get()
	var ee *mp.ExitError
	if errors.As(err, &ee) {
		say("a worker killed mid-task: task error with exit code %d; the others: %v (%v)", ee.Code, after, err2)
	} else {
		return fmt.Errorf("the killed worker's task: want an *mp.ExitError, got %v", err)
	}

	if err := wordCount(p, cfg.Files); err != nil {
		return err
	}
	return progress(p, cfg)
}

// wordCount counts words in map-reduce form, as PyMOTW's SimpleMapReduce:
// map each text to its counts in the pool, partition the words, reduce
// each partition in the pool.
func wordCount(p *mp.Pool, files []string) error {
	var texts []string
	if len(files) == 0 {
		texts = strings.Split(sampleText, "\n\n")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		texts = append(texts, string(b))
	}
	mapped, err := mp.Map(p, countWords, texts, mp.WithChunksize(1))
	if err != nil {
		return err
	}
	// Partition: the words by their first letter, each with its counts.
	parts := map[rune]map[string][]int{}
	for _, counts := range mapped {
		for w, n := range counts {
			k := []rune(w)[0]
			if parts[k] == nil {
				parts[k] = map[string][]int{}
			}
			parts[k][w] = append(parts[k][w], n)
		}
	}
	var todo []map[string][]int
	for _, part := range parts {
		todo = append(todo, part)
	}
	reduced, err := mp.Map(p, sumCounts, todo)
	if err != nil {
		return err
	}
	var all []WordCount
	for _, r := range reduced {
		all = append(all, r...)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Count != all[j].Count {
			return all[i].Count > all[j].Count
		}
		return all[i].Word < all[j].Word
	})
	say("word count over %d texts, %d distinct words; the most common:", len(texts), len(all))
	for _, wc := range all[:min(5, len(all))] {
		say("  %-10s %d", wc.Word, wc.Count)
	}
	return nil
}

// progress draws a progress bar (github.com/schollz/progressbar) over
// Imap: one tick per result, in order.
func progress(p *mp.Pool, cfg PoolConfig) error {
	w := cfg.Progress
	if w == nil {
		w = os.Stderr
	}
	items := make([]time.Duration, cfg.Items)
	for i := range items {
		items[i] = 20 * time.Millisecond
	}
	bar := progressbar.NewOptions(len(items), progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("imap"), progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30), progressbar.OptionThrottle(0))
	n := 0
	for _, err := range mp.Imap(p, pidAfter, items) {
		if err != nil {
			return err
		}
		n++
		_ = bar.Add(1)
	}
	_ = bar.Finish()
	fmt.Fprintln(w)
	say("imap: %d results, in order, under a progress bar", n)
	return nil
}

func ints(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// sampleText is the word count's built-in input: paragraphs of the Python
// documentation of multiprocessing, one text each.
const sampleText = `multiprocessing is a package that supports spawning processes using an API similar to the threading module. The multiprocessing package offers both local and remote concurrency, effectively side-stepping the Global Interpreter Lock by using subprocesses instead of threads.

The multiprocessing module also introduces APIs which do not have analogs in the threading module. A prime example of this is the Pool object which offers a convenient means of parallelizing the execution of a function across multiple input values, distributing the input data across processes.

A process pool object which controls a pool of worker processes to which jobs can be submitted. It supports asynchronous results with timeouts and callbacks and has a parallel map implementation.

processes is the number of worker processes to use. If initializer is not None then each worker process will call initializer when it starts. maxtasksperchild is the number of tasks a worker process can complete before it will exit and be replaced with a fresh worker process.

Worker processes within a Pool typically live for the complete duration of the Pool's work queue. A frequent pattern found in other systems is to allow a worker within a pool to complete only a set amount of work before exiting, being cleaned up and a new process spawned to replace the old one.`
