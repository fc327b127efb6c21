package mp_test

import (
	"fmt"
	"log"
	"net"
	"time"

	"github.com/go-mp/mp"
)

func init() { ipcTargets = append(ipcTargets, square, answer) }

// square gets numbers from in until it gets 0, and puts their squares on
// out.
func square(in, out *mp.Queue) error {
	for {
		var n int
		if err := in.Get(&n); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if err := out.Put(n * n); err != nil {
			return err
		}
	}
}

func ExampleQueue() {
	in, err := mp.NewQueue(0)
	if err != nil {
		log.Fatal(err)
	}
	defer in.Close()
	out, err := mp.NewQueue(0)
	if err != nil {
		log.Fatal(err)
	}
	defer out.Close()
	p := mp.NewProcess(square, in, out)
	if err := p.Start(); err != nil {
		log.Fatal(err)
	}
	for _, n := range []int{1, 2, 3, 0} {
		if err := in.Put(n); err != nil {
			log.Fatal(err)
		}
	}
	for range 3 {
		var sq int
		if err := out.Get(&sq); err != nil {
			log.Fatal(err)
		}
		fmt.Println(sq)
	}
	if err := p.Join(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// 1
	// 4
	// 9
}

// answer answers one question on c.
func answer(c *mp.Conn) error {
	var q string
	if err := c.Recv(&q); err != nil {
		return err
	}
	return c.Send(fmt.Sprintf("%q? 42", q))
}

func ExamplePipe() {
	parent, child, err := mp.Pipe(true)
	if err != nil {
		log.Fatal(err)
	}
	defer parent.Close()
	p := mp.NewProcess(answer, child)
	if err := p.Start(); err != nil {
		log.Fatal(err)
	}
	child.Close() // the child has its own copy
	if err := parent.Send("the answer"); err != nil {
		log.Fatal(err)
	}
	var reply string
	if err := parent.Recv(&reply); err != nil {
		log.Fatal(err)
	}
	fmt.Println(reply)
	if err := p.Join(); err != nil {
		log.Fatal(err)
	}
	// Output: "the answer"? 42
}

func ExampleConn_SendBytes() {
	r, w, err := mp.Pipe(false)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for _, m := range []string{"a", "b", "cd", ""} {
		if err := w.SendBytes([]byte(m)); err != nil {
			log.Fatal(err)
		}
	}
	for range 4 {
		b, err := r.RecvBytes()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%q\n", b)
	}
	ok, _ := r.Poll(10 * time.Millisecond)
	fmt.Println("more:", ok)
	// Output:
	// "a"
	// "b"
	// "cd"
	// ""
	// more: false
}

func ExampleNewConn() {
	a, b := net.Pipe() // any byte stream: a socket, a pipe, a net.Pipe
	ca, cb := mp.NewConn(a), mp.NewConn(b)
	defer ca.Close()
	defer cb.Close()
	go func() { _ = ca.Send("hello over a stream") }()
	var s string
	if err := cb.Recv(&s); err != nil {
		log.Fatal(err)
	}
	fmt.Println(s)
	// Output: hello over a stream
}
