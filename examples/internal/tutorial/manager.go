package tutorial

import (
	"fmt"
	"strings"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/connection"
	"github.com/go-mp/mp/managers"
)

// ManagerConfig sizes the managers step.
type ManagerConfig struct {
	Workers    int // processes incrementing the shared counter
	Increments int // increments each
}

// Maths is the docs' MathsClass: a type registered with a manager, whose
// objects live in the manager's process.
type Maths struct{}

// Add returns x + y.
func (Maths) Add(x, y int) int { return x + y }

// Mul returns x * y.
func (Maths) Mul(x, y int) int { return x * y }

func newMaths() *Maths { return &Maths{} }

// MathsProxy is Maths' typed proxy, as Python's custom proxy types are. It
// embeds the Proxy itself, not a pointer, so that it crosses into children
// (a decoded MathsProxy has a Proxy to decode into).
type MathsProxy struct{ managers.Proxy }

// Add calls Add in the manager's process.
func (m MathsProxy) Add(x, y int) (int, error) { return managers.Call[int](&m.Proxy, "Add", x, y) }

// Mul calls Mul in the manager's process.
func (m MathsProxy) Mul(x, y int) (int, error) { return managers.Call[int](&m.Proxy, "Mul", x, y) }

// remoteKey is the docs' authkey of the remote manager.
var remoteKey = []byte("abracadabra")

func init() {
	// The manager's process is this program started afresh: it registers
	// Maths here too.
	managers.Register("Maths", newMaths)
	mp.Register(changeShared, useMaths, hit, serveQueue, putHello)
}

// Manager shows a manager: the docs' example (a dict and a list, changed
// by a child), a registered type called from a child, a counter that
// workers increment atomically, and a remote manager that a program
// serves on TCP with a key, which other processes connect to.
func Manager(cfg ManagerConfig) error {
	m, err := managers.NewManager()
	if err != nil {
		return err
	}
	defer m.Shutdown()

	// The docs' example: f(d, l) sets three keys and reverses the list.
	d, err := managers.NewDict[any, any](m)
	if err != nil {
		return err
	}
	l, err := managers.NewList[int](m)
	if err != nil {
		return err
	}
	if err := l.Extend(0, 1, 2, 3, 4, 5, 6, 7, 8, 9); err != nil {
		return err
	}
	if err := runChild(changeShared, d, l); err != nil {
		return err
	}
	items, err := d.Items()
	if err != nil {
		return err
	}
	var parts []string
	for k, v := range items {
		parts = append(parts, fmt.Sprintf("%s: %s", pyRepr(k), pyRepr(v)))
	}
	all, err := l.All()
	if err != nil {
		return err
	}
	say("main: d = {%s}", strings.Join(parts, ", "))
	say("main: l = %v", all)

	// A registered type: its objects live in the manager's process.
	p, err := managers.New(m, "Maths")
	if err != nil {
		return err
	}
	maths := MathsProxy{*p}
	sum, err := maths.Add(4, 3)
	if err != nil {
		return err
	}
	product, err := maths.Mul(7, 8)
	if err != nil {
		return err
	}
	say("main: maths.Add(4, 3) = %d, maths.Mul(7, 8) = %d", sum, product)
	if err := runChild(useMaths, maths); err != nil {
		return err
	}

	// d[k] += 1 through a proxy is a Get and a Set, and other processes'
	// calls come in between: Python loses updates. Add is atomic.
	hits, err := managers.NewDict[string, int](m)
	if err != nil {
		return err
	}
	var workers []*mp.Process
	for range cfg.Workers {
		w := mp.NewProcess(hit, hits, cfg.Increments)
		if err := w.Start(); err != nil {
			return err
		}
		workers = append(workers, w)
	}
	for _, w := range workers {
		if err := w.Join(); err != nil {
			return err
		}
	}
	n, err := hits.Get("hits")
	if err != nil {
		return err
	}
	say("main: %d workers x %d Add(\"hits\", 1) = %d hits, none lost", cfg.Workers, cfg.Increments, n)

	return remote()
}

// remote runs the docs' remote manager: a program serving a queue on TCP
// with a key, a client process that puts on it, and this process, which
// connects too and gets.
func remote() error {
	in, out, err := mp.Pipe(false)
	if err != nil {
		return err
	}
	defer in.Close()
	server := mp.NewProcess(serveQueue, out)
	if err := server.Start(); err != nil {
		return err
	}
	out.Close()
	defer func() {
		_ = server.Terminate() // serve_forever: until killed
		_ = server.Join()
	}()
	var address string
	if err := in.Recv(&address); err != nil {
		return err
	}
	if err := runChild(putHello, address); err != nil {
		return err
	}
	m, err := managers.ConnectManager(connection.FamilyTCP, address, remoteKey)
	if err != nil {
		return err
	}
	defer m.Close()
	q, err := managers.NewQueue[string](m, 0, managers.Name("get_queue"))
	if err != nil {
		return err
	}
	msg, err := q.Get()
	if err != nil {
		return err
	}
	say("main: got %q from the remote manager's queue", msg)
	return nil
}

// runChild runs target with args in a child and waits for it.
func runChild(target any, args ...any) error {
	p := mp.NewProcess(target, args...)
	if err := p.Start(); err != nil {
		return err
	}
	return p.Join()
}

// changeShared is the docs' f(d, l).
func changeShared(d *managers.Dict[any, any], l *managers.List[int]) error {
	if err := d.Set(1, "1"); err != nil {
		return err
	}
	if err := d.Set("2", 2); err != nil {
		return err
	}
	if err := d.Set(0.25, nil); err != nil {
		return err
	}
	say("child: set d[1], d['2'] and d[0.25], reversed l")
	return l.Reverse()
}

// useMaths calls the registered type from a child.
func useMaths(maths MathsProxy) error {
	n, err := maths.Mul(6, 7)
	if err != nil {
		return err
	}
	say("child: maths.Mul(6, 7) = %d", n)
	return nil
}

// hit adds 1 to hits["hits"] n times.
func hit(hits *managers.Dict[string, int], n int) error {
	for range n {
		if _, err := hits.Add("hits", 1); err != nil {
			return err
		}
	}
	return nil
}

// serveQueue is a program that serves others: a manager's server on TCP
// with a key (Python's get_server().serve_forever()), until killed.
func serveQueue(out *mp.Conn) error {
	srv, err := managers.NewServer(connection.FamilyTCP, "127.0.0.1:0", remoteKey)
	if err != nil {
		return err
	}
	defer srv.Close()
	_, address := srv.Addr()
	say("server: serving on %s", "tcp:127.0.0.1:<port>")
	if err := out.Send(address); err != nil {
		return err
	}
	out.Close()
	return srv.Serve()
}

// putHello is a client in another process: it connects with the key and
// puts on the queue named get_queue.
func putHello(address string) error {
	m, err := managers.ConnectManager(connection.FamilyTCP, address, remoteKey)
	if err != nil {
		return err
	}
	defer m.Close()
	q, err := managers.NewQueue[string](m, 0, managers.Name("get_queue"))
	if err != nil {
		return err
	}
	say("client: put \"hello\"")
	return q.Put("hello")
}

// pyRepr prints a value as Python's repr would.
func pyRepr(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case string:
		return "'" + v + "'"
	}
	return fmt.Sprint(v)
}
