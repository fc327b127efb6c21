package mp_test

import (
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/go-mp/mp"
)

// The task functions of these examples (sqr, failAt, die, nap) are
// registered in TestMain, as a program registers its own in main:
//
//	func sqr(x int) (int, error) { return x * x, nil }
//
//	func main() {
//		mp.Main(mp.Task(sqr))
//		...
//	}

// Python's
//
//	with Pool(5) as p:
//	    print(p.map(f, [1, 2, 3]))
func ExampleMap() {
	p, err := mp.NewPool(2)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Join()
	defer p.Close()
	squares, err := mp.Map(p, sqr, []int{1, 2, 3})
	fmt.Println(squares, err)
	// Output: [1 4 9] <nil>
}

// A failing task does not stop the others: Imap yields its error in its
// place, and the loop goes on.
func ExampleImap() {
	p, err := mp.NewPool(2)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Join()
	defer p.Close()
	for v, err := range mp.Imap(p, failAt, []int{5, 6, 7, 8}) {
		var te *mp.TaskError
		if errors.As(err, &te) {
			fmt.Printf("task %d failed: %v\n", te.Index, errors.Unwrap(err).(*mp.ExitError).Err)
			continue
		}
		fmt.Println(v)
	}
	// Output:
	// 25
	// 36
	// task 2 failed: no 7
	// 64
}

// Python's res.get(timeout=1): the task goes on after the wait gives up.
func ExampleAsyncResult_GetTimeout() {
	p, err := mp.NewPool(1)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Join()
	defer p.Close()
	r := mp.ApplyAsync(p, nap, time.Second)
	_, err = r.GetTimeout(10 * time.Millisecond)
	fmt.Println(errors.Is(err, mp.ErrNotReady), r.Ready())
	_, err = r.Get()
	fmt.Println(err, r.Successful())
	// Output:
	// true false
	// <nil> true
}

// A worker that dies mid-task fails that task, with its exit code, and is
// replaced; the pool goes on. Python's Pool would hang.
func ExampleTaskError() {
	p, err := mp.NewPool(2)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Join()
	defer p.Close()
	_, err = mp.Apply(p, die, "exit")
	var ee *mp.ExitError
	fmt.Println(errors.As(err, &ee), ee.Code)
	v, err := mp.Apply(p, sqr, 9)
	fmt.Println(v, err)
	// Output:
	// true 3
	// 81 <nil>
}
