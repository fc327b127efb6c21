package mp_test

import (
	"fmt"

	"github.com/go-mp/mp"
)

func init() { ipcTargets = append(ipcTargets, piAndNegate, countTo, squareInPlace, writeHello) }

// piAndNegate is the f of Python's documentation.
func piAndNegate(n *mp.Value[float64], a *mp.Array[int32]) {
	n.Store(3.1415927)
	for i := range a.Len() {
		a.Store(i, -a.Load(i))
	}
}

// The example of Python's documentation: a child sets a Value and negates
// an Array, and its parent sees the change.
func ExampleNewValue() {
	num, _ := mp.NewValue(0.0)                                       // Value('d', 0.0)
	arr, _ := mp.NewArrayFrom([]int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) // Array('i', range(10))
	p := mp.NewProcess(piAndNegate, num, arr)
	_ = p.Start()
	_ = p.Join()
	fmt.Println(num.Load())
	fmt.Println(arr.Slice())
	// Output:
	// 3.1415927
	// [0 -1 -2 -3 -4 -5 -6 -7 -8 -9]
}

// countTo adds 1 to v n times.
func countTo(v *mp.RawValue[int64], n int) {
	for range n {
		v.Add(1)
	}
}

// Four processes add to one number at the same time, with no lock: Add
// is atomic.
func ExampleRawValue_Add() {
	v, _ := mp.NewRawValue(int64(0))
	defer v.Close()
	var ps []*mp.Process
	for range 4 {
		p := mp.NewProcess(countTo, v, 10_000)
		_ = p.Start()
		ps = append(ps, p)
	}
	for _, p := range ps {
		_ = p.Join()
	}
	fmt.Println(v.Load())
	// Output: 40000
}

// squareInPlace squares its part of a, in place.
func squareInPlace(a *mp.RawArray[float64], lo, hi int) {
	s := a.Slice()[lo:hi]
	for i := range s {
		s[i] *= s[i]
	}
}

// Two processes work on their own halves of one shared array, through
// Slice, with no copy and no lock.
func ExampleRawArray_Slice() {
	a, _ := mp.NewRawArrayFrom([]float64{1, 2, 3, 4, 5, 6})
	defer a.Close()
	p1 := mp.NewProcess(squareInPlace, a, 0, 3)
	p2 := mp.NewProcess(squareInPlace, a, 3, 6)
	_ = p1.Start()
	_ = p2.Start()
	_ = p1.Join()
	_ = p2.Join()
	fmt.Println(a.Slice())
	// Output: [1 4 9 16 25 36]
}

// writeHello opens a block by its name and writes into it.
func writeHello(name string) error {
	m, err := mp.OpenSharedMemory(name)
	if err != nil {
		return err
	}
	defer m.Close()
	copy(m.Buf(), "hello")
	return nil
}

// A block of shared memory that a child opens by its name, as any program
// could.
func ExampleNewSharedMemory() {
	m, err := mp.NewSharedMemory("", 64) // a new unique name
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	defer m.Unlink()
	p := mp.NewProcess(writeHello, m.Name())
	_ = p.Start()
	_ = p.Join()
	fmt.Println(string(m.Buf()[:5]), m.Size())
	// Output: hello 64
}
