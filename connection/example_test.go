package connection_test

import (
	"fmt"
	"log"
	"time"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/connection"
)

func ExampleListener() {
	l, err := connection.Listen("", "", nil) // the tree's key, a fresh address
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	family, address := l.Addr()
	p := mp.NewProcess(dial, family, address) // dial uses connection.Client
	if err := p.Start(); err != nil {
		log.Fatal(err)
	}
	c, err := l.Accept()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	var it item
	if err := c.Recv(&it); err != nil {
		log.Fatal(err)
	}
	fmt.Println(it.N, it.S == "from "+p.Name)
	if err := c.Send(it); err != nil {
		log.Fatal(err)
	}
	if err := p.Join(); err != nil {
		log.Fatal(err)
	}
	// Output: 1 true
}

// Wait on a connection and a child's sentinel at once, as Python's
// connection.wait does: the child answers on out once it hears on in, then
// exits.
func ExampleWait() {
	in, inChild, err := mp.Pipe(true)
	if err != nil {
		log.Fatal(err)
	}
	out, outChild, err := mp.Pipe(true)
	if err != nil {
		log.Fatal(err)
	}
	defer in.Close()
	defer out.Close()
	p := mp.NewProcess(waitThenSend, inChild, outChild)
	if err := p.Start(); err != nil {
		log.Fatal(err)
	}
	inChild.Close()
	outChild.Close()

	ready, err := connection.Wait([]any{out, p}, 100*time.Millisecond)
	fmt.Println(len(ready), err) // the child waits for its message
	if err := in.SendBytes([]byte("hello")); err != nil {
		log.Fatal(err)
	}
	ready, err = connection.Wait([]any{out, p}, -1)
	if err != nil {
		log.Fatal(err)
	}
	if ready[0] == out {
		b, _ := out.RecvBytes()
		fmt.Printf("%s\n", b)
	}
	if err := p.Join(); err != nil {
		log.Fatal(err)
	}
	ready, _ = connection.Wait([]any{p}, 0)
	fmt.Println(len(ready) == 1 && ready[0] == p)
	// Output:
	// 0 <nil>
	// hello
	// true
}
