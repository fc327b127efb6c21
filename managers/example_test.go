package managers_test

import (
	"fmt"
	"log"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/managers"
)

func init() { targets = append(targets, exampleF, exampleHits) }

// exampleF is the docs' f(d, l): it changes a dict and a list that a
// manager holds.
func exampleF(d *managers.Dict[string, int], l *managers.List[int]) error {
	if err := d.Set("1", 1); err != nil {
		return err
	}
	if err := d.Set("2", 2); err != nil {
		return err
	}
	return l.Reverse()
}

// The docs' Manager example: a child changes a dict and a list, and the
// parent sees the changes.
func ExampleNewManager() {
	m, err := managers.NewManager()
	if err != nil {
		log.Fatal(err)
	}
	defer m.Shutdown()
	d, _ := managers.NewDict[string, int](m)
	l, _ := managers.NewList[int](m)
	_ = l.Extend(0, 1, 2, 3, 4)

	p := mp.NewProcess(exampleF, d, l)
	if err := p.Start(); err != nil {
		log.Fatal(err)
	}
	if err := p.Join(); err != nil {
		log.Fatal(err)
	}
	dm, _ := d.Map()
	all, _ := l.All()
	fmt.Println(dm)
	fmt.Println(all)
	// Output:
	// map[1:1 2:2]
	// [4 3 2 1 0]
}

func exampleHits(d *managers.Dict[string, int], n int) error {
	for range n {
		if _, err := d.Add("hits", 1); err != nil {
			return err
		}
	}
	return nil
}

// Four processes add to one key at once: no update is lost, as Add is
// applied in the server, whole.
func ExampleDict_Add() {
	m, err := managers.NewManager()
	if err != nil {
		log.Fatal(err)
	}
	defer m.Shutdown()
	d, _ := managers.NewDict[string, int](m)
	var ps []*mp.Process
	for range 4 {
		p := mp.NewProcess(exampleHits, d, 100)
		if err := p.Start(); err != nil {
			log.Fatal(err)
		}
		ps = append(ps, p)
	}
	for _, p := range ps {
		_ = p.Join()
	}
	n, _ := d.Get("hits")
	fmt.Println(n)
	// Output: 400
}

// Maths is the docs' MathsClass, registered with managers.
type Maths struct{}

func (Maths) Add(x, y int) int { return x + y }
func (Maths) Mul(x, y int) int { return x * y }

func init() { managers.Register("Maths", func() *Maths { return &Maths{} }) }

// A registered type: its object lives in the manager's process, and its
// methods are called through a proxy.
func ExampleRegister() {
	m, err := managers.NewManager()
	if err != nil {
		log.Fatal(err)
	}
	defer m.Shutdown()
	maths, err := managers.New(m, "Maths")
	if err != nil {
		log.Fatal(err)
	}
	sum, _ := managers.Call[int](maths, "Add", 4, 3)
	product, _ := managers.Call[int](maths, "Mul", 7, 8)
	fmt.Println(sum, product)
	err = maths.Call("Div", 1, 0)
	fmt.Println(err)
	// Output:
	// 7 56
	// mp: method not exposed: Maths has no exposed method Div
}

// A program serves a queue to others (Python's serve_forever), which
// connect with the key and share it by name.
func ExampleNewServer() {
	srv, err := managers.NewServer("tcp", "127.0.0.1:0", []byte("abracadabra"))
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve()
	defer srv.Close()

	family, address := srv.Addr()
	m, err := managers.ConnectManager(family, address, []byte("abracadabra"))
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	q, _ := managers.NewQueue[string](m, 0, managers.Name("get_queue"))
	_ = q.Put("hello")

	other, _ := managers.ConnectManager(family, address, []byte("abracadabra"))
	defer other.Close()
	same, _ := managers.NewQueue[string](other, 0, managers.Name("get_queue"))
	msg, _ := same.Get()
	fmt.Println(msg)

	_, err = managers.ConnectManager(family, address, []byte("open sesame"))
	fmt.Println(err != nil)
	// Output:
	// hello
	// true
}
