package mp_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
)

// The ports of CPython's _test_multiprocessing cases for shared ctypes:
// _TestValue, _TestArray and _TestSharedCTypes, with children under each
// start method, and the tests of what Python lacks (atomic Add across
// processes, small elements side by side, grandchildren, misuse).

func init() {
	ipcTargets = append(ipcTargets, setValues, setRawValues, prefixSums, doubleAll, adder, countingAdder,
		floatAdder, byteAdder, passValueOn)
}

func newValue[T mp.Number](t *testing.T, v T) *mp.Value[T] {
	t.Helper()
	x, err := mp.NewValue(v)
	require.NoError(t, err)
	t.Cleanup(func() { x.Close(); x.GetLock().Close() })
	return x
}

func newRawValue[T mp.Number](t *testing.T, v T) *mp.RawValue[T] {
	t.Helper()
	x, err := mp.NewRawValue(v)
	require.NoError(t, err)
	t.Cleanup(func() { x.Close() })
	return x
}

func newArrayFrom[T mp.Number](t *testing.T, values []T) *mp.Array[T] {
	t.Helper()
	a, err := mp.NewArrayFrom(values)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close(); a.GetLock().Close() })
	return a
}

func newRawArrayFrom[T mp.Number](t *testing.T, values []T) *mp.RawArray[T] {
	t.Helper()
	a, err := mp.NewRawArrayFrom(values)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	return a
}

// --- _TestValue

// Python's codes_values: ('i', 4343, 24234), ('d', 3.625, -4.25),
// ('h', -232, 234), ('q', 2**33, 2**34), ('c', 'x', 'y').

func setValues(i *mp.Value[int32], d *mp.Value[float64], h *mp.Value[int16], q *mp.Value[int64], c *mp.Value[byte]) {
	i.Store(24234)
	d.Store(-4.25)
	h.Store(234)
	q.Store(1 << 34)
	c.Store('y')
}

func setRawValues(i *mp.RawValue[int32], d *mp.RawValue[float64], h *mp.RawValue[int16], q *mp.RawValue[int64], c *mp.RawValue[byte]) {
	i.Store(24234)
	d.Store(-4.25)
	h.Store(234)
	q.Store(1 << 34)
	c.Store('y')
}

func TestValue(t *testing.T) {
	eachMethod(t, func(t *testing.T, m mp.StartMethod) {
		i, d, h, q, c := newValue(t, int32(4343)), newValue(t, 3.625), newValue(t, int16(-232)), newValue(t, int64(1)<<33), newValue(t, byte('x'))
		assert.Equal(t, int32(4343), i.Load())
		assert.Equal(t, 3.625, d.Load())
		assert.Equal(t, int16(-232), h.Load())
		assert.Equal(t, int64(1)<<33, q.Load())
		assert.Equal(t, byte('x'), c.Load())
		require.NoError(t, startIn(t, m, setValues, i, d, h, q, c).Join())
		assert.Equal(t, int32(24234), i.Load())
		assert.Equal(t, -4.25, d.Load())
		assert.Equal(t, int16(234), h.Load())
		assert.Equal(t, int64(1)<<34, q.Load())
		assert.Equal(t, byte('y'), c.Load())
	})
}

func TestRawValue(t *testing.T) {
	eachMethod(t, func(t *testing.T, m mp.StartMethod) {
		i, d, h, q, c := newRawValue(t, int32(4343)), newRawValue(t, 3.625), newRawValue(t, int16(-232)), newRawValue(t, int64(1)<<33), newRawValue(t, byte('x'))
		require.NoError(t, startIn(t, m, setRawValues, i, d, h, q, c).Join())
		assert.Equal(t, int32(24234), i.Load())
		assert.Equal(t, -4.25, d.Load())
		assert.Equal(t, int16(234), h.Load())
		assert.Equal(t, int64(1)<<34, q.Load())
		assert.Equal(t, byte('y'), c.Load())
	})
}

// _TestValue.test_getobj_getlock and _TestArray.test_getobj_getlock_obj.
func TestGetObjGetLock(t *testing.T) {
	t.Parallel()
	v1 := newValue(t, int32(5))
	require.NotNil(t, v1.GetLock())
	require.NotNil(t, v1.RawValue, "get_obj")
	_, isRLock := v1.GetLock().(*mp.RLock)
	assert.True(t, isRLock, "Python's default lock is an RLock")

	lock := newLock(t)
	v3 := newRawValue(t, int32(5)).WithLock(lock)
	assert.Same(t, lock, v3.GetLock())
	a3 := newRawArrayFrom(t, []int32{0, 1, 2}).WithLock(lock)
	assert.Same(t, lock, a3.GetLock())
	assert.Equal(t, int32(2), a3.Load(2))

	// A raw value or array has no lock (Python: no get_lock attribute).
	type locked interface{ GetLock() mp.SharedLock }
	var raw any = newRawValue(t, int32(5))
	_, ok := raw.(locked)
	assert.False(t, ok)
	raw = newRawArrayFrom(t, []int32{1})
	_, ok = raw.(locked)
	assert.False(t, ok)
	assert.Panics(t, func() { newRawValue(t, 1).WithLock(nil) })
}

// The lock guards compound updates: four goroutines and two children
// double-check-and-increment under it.
func TestValueLock(t *testing.T) {
	t.Parallel()
	v := newValue(t, 0)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 500 {
				l := v.GetLock()
				l.Lock()
				v.Store(v.Load() + 1) // not atomic alone
				l.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 2000, v.Load())
}

// --- _TestArray

var arraySeq = []int32{680, 626, 934, 821, 150, 233, 548, 982, 714, 831}

// prefixSums is _TestArray.f: seq[i] += seq[i-1], in the child.
func prefixSums(a *mp.RawArray[int32]) {
	for i := 1; i < a.Len(); i++ {
		a.Store(i, a.Load(i)+a.Load(i-1))
	}
}

func testArray(t *testing.T, m mp.StartMethod, arr *mp.RawArray[int32]) {
	seq := append([]int32(nil), arraySeq...)
	assert.Equal(t, len(seq), arr.Len())
	assert.Equal(t, seq[3], arr.Load(3))
	assert.Equal(t, seq[2:7], arr.Slice()[2:7])
	copy(arr.Slice()[4:8], []int32{1, 2, 3, 4})
	copy(seq[4:8], []int32{1, 2, 3, 4})
	assert.Equal(t, seq, arr.Slice())
	for i := 1; i < len(seq); i++ {
		seq[i] += seq[i-1]
	}
	require.NoError(t, startIn(t, m, prefixSums, arr).Join())
	assert.Equal(t, seq, arr.Slice())
}

func TestArray(t *testing.T) {
	eachMethod(t, func(t *testing.T, m mp.StartMethod) {
		a := newArrayFrom(t, arraySeq)
		testArray(t, m, a.RawArray)
	})
}

func TestRawArray(t *testing.T) {
	eachMethod(t, func(t *testing.T, m mp.StartMethod) {
		testArray(t, m, newRawArrayFrom(t, arraySeq))
	})
}

// _TestArray.test_array_from_size: new arrays are zeroed (bpo-11675),
// however often memory is reused.
func TestArrayFromSize(t *testing.T) {
	t.Parallel()
	for range 3 {
		a, err := mp.NewArray[int32](10)
		require.NoError(t, err)
		assert.Equal(t, 10, a.Len())
		assert.Equal(t, make([]int32, 10), a.Slice())
		for i := range a.Slice() {
			a.Slice()[i] = int32(i)
		}
		assert.Equal(t, []int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, a.Slice())
		require.NoError(t, a.Close())
		require.NoError(t, a.GetLock().Close())
	}
	empty, err := mp.NewRawArray[float64](0)
	require.NoError(t, err)
	assert.Equal(t, 0, empty.Len())
	assert.Empty(t, empty.Slice())
	require.NoError(t, empty.Close())
}

// --- _TestSharedCTypes

// doubleAll is _TestSharedCTypes._double (without _Foo: a ctypes
// Structure has no counterpart here).
func doubleAll(x *mp.Value[int32], y *mp.Value[float64], z *mp.Value[int64], arr *mp.Array[float64], str *mp.Array[byte]) {
	x.Store(x.Load() * 2)
	y.Store(y.Load() * 2)
	z.Store(z.Load() * 2)
	for i := range arr.Len() {
		arr.Store(i, arr.Load(i)*2)
	}
	s := str.Slice()
	n := strings.IndexByte(string(s), 0)
	copy(s[n:], s[:n])
}

func TestSharedCTypes(t *testing.T) {
	for _, synchronized := range []bool{false, true} {
		t.Run(fmt.Sprint("lock=", synchronized), func(t *testing.T) {
			eachMethod(t, func(t *testing.T, m mp.StartMethod) {
				l := newLock(t)
				x := newRawValue(t, int32(7)).WithLock(l)
				y := newRawValue(t, 1.0/3.0).WithLock(l)
				z := newRawValue(t, int64(1)<<33).WithLock(l)
				arr := newRawArrayFrom(t, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}).WithLock(l)
				str := newRawArrayFrom(t, make([]byte, 20)).WithLock(l)
				if synchronized {
					x, y, z = newValue(t, int32(7)), newValue(t, 1.0/3.0), newValue(t, int64(1)<<33)
					arr = newArrayFrom(t, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
					str = newArrayFrom(t, make([]byte, 20))
				}
				copy(str.Slice(), "hello")
				require.NoError(t, startIn(t, m, doubleAll, x, y, z, arr, str).Join())
				assert.Equal(t, int32(14), x.Load())
				assert.InDelta(t, 2.0/3.0, y.Load(), 1e-15)
				assert.Equal(t, int64(1)<<34, z.Load())
				for i := range 10 {
					assert.InDelta(t, float64(i*2), arr.Load(i), 0)
				}
				assert.Equal(t, "hellohello", strings.TrimRight(string(str.Slice()), "\x00"))
			})
		})
	}
}

// --- What Python does not have: atomic Add across processes

// adder adds 1 to v n times.
func adder(v *mp.RawValue[int64], n int) {
	for range n {
		v.Add(1)
	}
}

// together waits until every party has said it is ready, for the
// children of TestAddFourProcesses to start their work at once.
func together(ready *mp.Semaphore, start *mp.Event) error {
	if err := ready.Release(); err != nil {
		return err
	}
	return start.Wait()
}

// countingAdder adds 1 to v n times, once the parties go.
func countingAdder(v *mp.RawValue[int64], n int, ready *mp.Semaphore, start *mp.Event) error {
	if err := together(ready, start); err != nil {
		return err
	}
	adder(v, n)
	return nil
}

// floatAdder adds 0.5 to v n times, once the parties go.
func floatAdder(v *mp.Value[float64], n int, ready *mp.Semaphore, start *mp.Event) error {
	if err := together(ready, start); err != nil {
		return err
	}
	for range n {
		v.Add(0.5)
	}
	return nil
}

// byteAdder adds 1 n times to element me of bytes, and to element me of
// shorts, once the parties go: neighbours in one 32-bit word, which other
// processes add to at the same time; the bytes wrap around.
func byteAdder(bytes *mp.RawArray[int8], shorts *mp.RawArray[uint16], me, n int, ready *mp.Semaphore, start *mp.Event) error {
	if err := together(ready, start); err != nil {
		return err
	}
	for range n {
		bytes.Add(me, 1)
		shorts.Add(me, 1)
	}
	return nil
}

// TestAddFourProcesses: four processes add 100,000 each to one Value, at
// the same time, with no lock: the total is exact. So are floats added by
// four processes, and small elements that share words, added by four
// others.
func TestAddFourProcesses(t *testing.T) {
	const procs, n = 4, 100_000
	eachMethod(t, func(t *testing.T, m mp.StartMethod) {
		v := newRawValue(t, int64(0))
		f := newValue(t, 0.0)
		bytes := newRawArrayFrom(t, make([]int8, 8))
		shorts := newRawArrayFrom(t, make([]uint16, 8))
		ready, start := newSem(t, 0), newEvent(t)
		var ps []*mp.Process
		for me := range procs {
			ps = append(ps, startIn(t, m, countingAdder, v, n, ready, start),
				startIn(t, m, floatAdder, f, n, ready, start),
				startIn(t, m, byteAdder, bytes, shorts, 2*me+1, n, ready, start))
		}
		for range ps {
			ok, err := ready.AcquireTimeout(time.Minute)
			require.NoError(t, err)
			require.True(t, ok)
		}
		require.NoError(t, start.Set())
		for _, p := range ps {
			require.NoError(t, p.Join())
		}
		assert.Equal(t, int64(procs*n), v.Load())
		assert.Equal(t, float64(procs*n/2), f.Load(), "0.5 at a time, by compare-and-swap")
		wantB, wantS := make([]int8, 8), make([]uint16, 8)
		k := n
		for me := range procs {
			wantB[2*me+1] = int8(k) // both wrapped around
			wantS[2*me+1] = uint16(k)
		}
		assert.Equal(t, wantB, bytes.Slice(), "no neighbour overwritten")
		assert.Equal(t, wantS, shorts.Slice())
	})
}

// TestAtomics checks each operation on each element type, in one
// process.
func TestAtomics(t *testing.T) {
	t.Parallel()
	testAtomics[int8](t, -128, 127)
	testAtomics[uint8](t, 0, 255)
	testAtomics[int16](t, math.MinInt16, math.MaxInt16)
	testAtomics[uint16](t, 0, math.MaxUint16)
	testAtomics[int32](t, math.MinInt32, math.MaxInt32)
	testAtomics[uint32](t, 0, math.MaxUint32)
	testAtomics[int64](t, math.MinInt64, math.MaxInt64)
	testAtomics[uint64](t, 0, math.MaxUint64)
	testAtomics[int](t, math.MinInt, math.MaxInt)
	testAtomics[uint](t, 0, math.MaxUint)
	testAtomics[float32](t, -math.MaxFloat32, math.MaxFloat32)
	testAtomics[float64](t, -math.MaxFloat64, math.MaxFloat64)

	type celsius float64 // a type defined on a number type
	c := newRawValue(t, celsius(-40))
	assert.Equal(t, celsius(-39.5), c.Add(0.5))

	nan := newRawValue(t, math.NaN())
	assert.True(t, nan.CompareAndSwap(math.NaN(), 1), "floats compare by their bits")
	zero := newRawValue(t, 0.0)
	assert.False(t, zero.CompareAndSwap(math.Copysign(0, -1), 1), "-0 is not +0")
}

func testAtomics[T mp.Number](t *testing.T, lo, hi T) {
	t.Run(fmt.Sprintf("%T", lo), func(t *testing.T) {
		// Four elements, so that small ones share a word, each with its
		// own pattern.
		a := newRawArrayFrom(t, []T{lo, hi, 0, 1})
		assert.Equal(t, []T{lo, hi, 0, 1}, a.Slice())
		assert.Equal(t, T(2), a.Add(3, 1))
		assert.Equal(t, T(2), a.Load(3))
		assert.Equal(t, hi, a.Load(1), "a neighbour")
		assert.False(t, a.CompareAndSwap(2, 1, 5))
		assert.True(t, a.CompareAndSwap(2, 0, 5))
		assert.Equal(t, T(5), a.Load(2))
		a.Store(0, hi)
		assert.Equal(t, []T{hi, hi, 5, 2}, a.Slice())
		if !isFloat(lo) {
			assert.Equal(t, lo, a.Add(1, 1), "wraps around")
		}
		assert.Equal(t, hi, a.Load(0))
		v := newRawValue(t, lo)
		v.Store(hi)
		assert.Equal(t, hi, v.Load())
		assert.True(t, v.CompareAndSwap(hi, lo))
		assert.Equal(t, lo, v.Load())
	})
}

func isFloat[T mp.Number](T) bool {
	var x T = 1
	return x/2 != 0
}

// --- Passing

// passValueOn starts a grandchild that adds to v, and adds itself.
func passValueOn(v *mp.RawValue[int64], a *mp.Array[int32], n int) error {
	p := mp.NewProcess(adder, v, n)
	if err := p.Start(); err != nil {
		return err
	}
	a.Add(0, 1)
	v.Add(int64(n))
	return p.Join()
}

func TestValueGrandchild(t *testing.T) {
	eachMethod(t, func(t *testing.T, m mp.StartMethod) {
		v := newRawValue(t, int64(0))
		a := newArrayFrom(t, []int32{0})
		require.NoError(t, startIn(t, m, passValueOn, v, a, 1000).Join())
		assert.Equal(t, int64(2000), v.Load())
		assert.Equal(t, int32(1), a.Load(0))
	})
}

// adderRunner is a Runner with a Value field.
type adderRunner struct {
	V *mp.Value[int64]
	N int
}

func (r *adderRunner) Run() error {
	for range r.N {
		r.V.Add(1)
	}
	return nil
}

func init() { ipcTargets = append(ipcTargets, &adderRunner{}) }

func TestValueRunnerField(t *testing.T) {
	eachMethod(t, func(t *testing.T, m mp.StartMethod) {
		v := newValue(t, int64(0))
		p := mp.NewProcess(&adderRunner{V: v, N: 10})
		p.StartMethod = m
		require.NoError(t, start(t, p).Join())
		assert.Equal(t, int64(10), v.Load())
	})
}

// getNotHeld gets a Value from q that no one passed to this process.
func getNotHeld(q *mp.Queue) error {
	var v mp.Value[int64]
	if err := q.Get(&v); !errors.Is(err, mp.ErrNotPassable) {
		return fmt.Errorf("want ErrNotPassable, got %v", err)
	}
	return nil
}

func init() { ipcTargets = append(ipcTargets, getNotHeld) }

func TestValueMisuse(t *testing.T) {
	t.Parallel()
	v := newValue(t, int64(1))
	q := newQueue(t, 0)
	// Sent on a queue, a Value decodes as itself in a process that holds
	// it, and in no other.
	require.NoError(t, q.Put(v))
	var got mp.Value[int64]
	require.NoError(t, q.Get(&got))
	got.Add(1)
	assert.Equal(t, int64(2), v.Load())
	require.NoError(t, q.Put(v))
	require.NoError(t, startIn(t, mp.Spawn, getNotHeld, q).Join())
	a, b, err := mp.Pipe(true)
	require.NoError(t, err)
	defer a.Close()
	defer b.Close()
	require.NoError(t, a.Send(newRawArrayFrom(t, []int8{1})))
	var arr mp.RawArray[int8]
	require.NoError(t, b.Recv(&arr))
	assert.Equal(t, []int8{1}, arr.Slice())

	assert.PanicsWithValue(t, "mp: index 3 out of range for an Array of length 3", func() {
		newRawArrayFrom(t, []int8{1, 2, 3}).Load(3)
	})
	assert.Panics(t, func() { newRawArrayFrom(t, []int8{1}).Store(-1, 0) })
	var zero mp.Value[int64]
	assert.Panics(t, func() { zero.Load() })
	var zeroA mp.RawArray[int64]
	assert.Panics(t, func() { zeroA.Len() })

	c, err := mp.NewRawValue(int64(3))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.NoError(t, c.Close(), "a second Close")
	assert.PanicsWithValue(t, "mp: use of a closed Value", func() { c.Load() })
	ca, err := mp.NewArray[int64](3)
	require.NoError(t, err)
	require.NoError(t, ca.Close())
	assert.PanicsWithValue(t, "mp: use of a closed Array", func() { ca.Slice() })

	_, err = mp.NewRawArray[int64](-1)
	assert.ErrorIs(t, err, mp.ErrBadSize)
	_, err = mp.NewArray[int64](1 << 40)
	assert.ErrorIs(t, err, mp.ErrBadSize)
	assert.True(t, strings.HasPrefix(err.Error(), "mp: "))
}
