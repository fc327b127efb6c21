package tutorial

import (
	"fmt"
	"os"

	"github.com/go-mp/mp"
)

// SharedConfig sizes the shared memory step.
type SharedConfig struct {
	Workers int // processes that sum the array
	N       int // numbers in the array: 1, 2, ..., N
}

// Shared shows processes that share memory, as Python's
// multiprocessing.Value, Array and shared_memory do: the example of
// Python's documentation (a child sets a Value to pi and negates an
// Array); workers that sum a shared array of numbers in parallel, each its
// own part, with no copy; and a block of shared memory that a child opens
// by its name.
func Shared(cfg SharedConfig) error {
	if err := valueAndArray(); err != nil {
		return err
	}
	if err := parallelSum(cfg); err != nil {
		return err
	}
	return sharedByName()
}

// valueAndArray is the example of Python's documentation:
//
//	num = Value('d', 0.0)
//	arr = Array('i', range(10))
//	p = Process(target=f, args=(num, arr))
func valueAndArray() error {
	num, err := mp.NewValue(0.0)
	if err != nil {
		return err
	}
	defer num.Close()
	seq := make([]int32, 10)
	for i := range seq {
		seq[i] = int32(i)
	}
	arr, err := mp.NewArrayFrom(seq)
	if err != nil {
		return err
	}
	defer arr.Close()
	p := mp.NewProcess(setPiNegate, num, arr)
	if err := p.Start(); err != nil {
		return err
	}
	if err := p.Join(); err != nil {
		return err
	}
	say("main: num = %v", num.Load())
	say("main: arr = %v", arr.Slice())
	return nil
}

// setPiNegate is the documentation's f:
//
//	def f(n, a):
//	    n.value = 3.1415927
//	    for i in range(len(a)):
//	        a[i] = -a[i]
func setPiNegate(n *mp.Value[float64], a *mp.Array[int32]) {
	n.Store(3.1415927)
	for i := range a.Len() {
		a.Store(i, -a.Load(i))
	}
}

// parallelSum fills a shared array with 1..N and has Workers processes sum
// it, each its own slice of it; each stores its sum in its own element of
// a shared array of partial sums, and adds its count of numbers to a
// shared Value, atomically.
func parallelSum(cfg SharedConfig) error {
	data, err := mp.NewRawArray[float64](cfg.N)
	if err != nil {
		return err
	}
	defer data.Close()
	for i := range data.Slice() {
		data.Slice()[i] = float64(i + 1)
	}
	partial, err := mp.NewRawArray[float64](cfg.Workers)
	if err != nil {
		return err
	}
	defer partial.Close()
	counted, err := mp.NewRawValue(int64(0))
	if err != nil {
		return err
	}
	defer counted.Close()
	var ps []*mp.Process
	for w := range cfg.Workers {
		lo, hi := w*cfg.N/cfg.Workers, (w+1)*cfg.N/cfg.Workers
		p := mp.NewProcess(sumPart, data, lo, hi, partial, w, counted)
		if err := p.Start(); err != nil {
			return err
		}
		ps = append(ps, p)
	}
	if err := joinAll(ps); err != nil {
		return err
	}
	var total float64
	for _, s := range partial.Slice() {
		total += s
	}
	n := float64(cfg.N)
	say("main: %d workers summed %d shared numbers (%d counted): %.0f, and n(n+1)/2 = %.0f",
		cfg.Workers, cfg.N, counted.Load(), total, n*(n+1)/2)
	return nil
}

// sumPart sums data[lo:hi], reading the shared memory in place, and stores
// the sum in partial[w].
func sumPart(data *mp.RawArray[float64], lo, hi int, partial *mp.RawArray[float64], w int, counted *mp.RawValue[int64]) {
	var s float64
	for _, x := range data.Slice()[lo:hi] {
		s += x
	}
	partial.Store(w, s)
	counted.Add(int64(hi - lo))
	say("worker %d: the sum of numbers %d to %d is %.0f", w, lo+1, hi, s)
}

// sharedByName creates a named block of shared memory, which a child
// opens by its name (as any program could, Python's
// shared_memory.SharedMemory(name) included) and writes to.
func sharedByName() error {
	m, err := mp.NewSharedMemory("", 64)
	if err != nil {
		return err
	}
	defer m.Close()
	defer m.Unlink()
	p := mp.NewProcess(greetByName, m.Name())
	if err := p.Start(); err != nil {
		return err
	}
	if err := p.Join(); err != nil {
		return err
	}
	msg := string(m.Buf()[:m.Buf()[0]+1][1:])
	say("main: the child wrote %q into the block", msg)
	return nil
}

// greetByName opens the block by its name and writes a greeting into it:
// its length, then its bytes.
func greetByName(name string) error {
	m, err := mp.OpenSharedMemory(name)
	if err != nil {
		return err
	}
	defer m.Close()
	msg := fmt.Sprintf("hello from pid %d", os.Getpid())
	m.Buf()[0] = byte(copy(m.Buf()[1:], msg))
	say("child: opened %s by its name", m)
	return nil
}
