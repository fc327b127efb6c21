package managers_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/managers"
)

// Ports of CPython's _TestMyManager, and the rest of registered types.

// FooBar is CPython's FooBar: F returns, G fails, H is exposed only by
// "Bar" (Python's _h, hidden by default as its name begins with _).
type FooBar struct{}

func (FooBar) F() string { return "f()" }
func (FooBar) G() error  { return &ValueError{Msg: "g failed"} }
func (FooBar) H() string { return "_h()" }

func newFooBar() FooBar { return FooBar{} }

// ValueError is an error type registered with mp.RegisterType, so that it
// crosses as itself.
type ValueError struct{ Msg string }

func (e *ValueError) Error() string { return "ValueError: " + e.Msg }

// squares is CPython's baz generator: i*i for i in range(10).
type squares struct {
	mu sync.Mutex
	i  int
}

func (s *squares) Next() (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.i >= 10 {
		return 0, false
	}
	s.i++
	return (s.i - 1) * (s.i - 1), true
}

func newSquares() *squares { return &squares{} }

// Counter is a registered type with arguments, pointer identity, a panic,
// and a method that waits with a context.
type Counter struct {
	mu sync.Mutex
	n  int
}

func NewCounter(start int) (*Counter, error) {
	if start < 0 {
		return nil, errors.New("a counter starts at zero or more")
	}
	return &Counter{n: start}, nil
}

func (c *Counter) Add(delta int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n += delta
	return c.n
}

func (c *Counter) Both(a int, s string) (int, string, error) { return a * 2, s + s, nil }

func (c *Counter) Sum(xs ...int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

func (c *Counter) Boom() { panic("boom") }

// Block waits until its context ends, and says so.
func (c *Counter) Block(ctx context.Context) error {
	<-ctx.Done()
	blocked <- ctx.Err()
	return ctx.Err()
}

// blocked hears from Block in the server's process: the tests that use it
// run the server in this process.
var blocked = make(chan error, 1)

// theCounter is what "shared" returns every time.
var theCounter = &Counter{}

func sharedCounter() *Counter { return theCounter }

// appendWord is a function for Dict.Modify.
func appendWord(old []string, found bool) []string { return append(old, fmt.Sprint("w", len(old))) }

func explode(old int, found bool) int { panic("exploded") }

func notRegistered(old int, found bool) int { return old }

func init() {
	mp.RegisterType(&ValueError{})
	managers.Register("Foo", newFooBar, managers.Exposed("F", "G"))
	managers.Register("Bar", newFooBar, managers.Exposed("F", "H"))
	managers.Register("baz", newSquares)
	managers.Register("Counter", NewCounter)
	managers.Register("shared", sharedCounter)
	managers.RegisterFunc(appendWord, explode)
	targets = append(targets, childCounter, childTyped, childBad)
}

func TestMyManager(t *testing.T) {
	t.Parallel()
	m := newManager(t)
	t.Cleanup(func() {
		// As CPython's test_mymanager: the process exits cleanly.
		require.NoError(t, m.Shutdown())
		code, exited := m.Process().ExitCode()
		assert.True(t, exited)
		assert.Equal(t, 0, code)
	})
	foo := must[*managers.Proxy](t)(managers.New(m, "Foo"))
	bar := must[*managers.Proxy](t)(managers.New(m, "Bar"))
	baz := must[*managers.Proxy](t)(managers.New(m, "baz"))
	assert.Equal(t, []string{"F", "G"}, foo.Methods())
	assert.Equal(t, []string{"F", "H"}, bar.Methods())

	assert.Equal(t, "f()", must[string](t)(managers.Call[string](foo, "F")))
	err := foo.Call("G")
	var re *managers.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "Foo", re.TypeID)
	assert.Equal(t, "G", re.Method)
	assert.Equal(t, "*managers_test.ValueError", re.ErrType)
	assert.EqualError(t, err, "mp: Foo.G: ValueError: g failed")
	var ve *ValueError
	require.ErrorAs(t, err, &ve, "a registered error type crosses as itself")
	assert.Equal(t, "g failed", ve.Msg)
	assert.ErrorIs(t, foo.Call("H"), managers.ErrNotExposed)

	assert.Equal(t, "f()", must[string](t)(managers.Call[string](bar, "F")))
	assert.Equal(t, "_h()", must[string](t)(managers.Call[string](bar, "H")))
	assert.ErrorIs(t, bar.Call("G"), managers.ErrNotExposed)

	var got []int
	for {
		var v int
		var ok bool
		require.NoError(t, baz.CallInto("Next", nil, &v, &ok))
		if !ok {
			break
		}
		got = append(got, v)
	}
	assert.Equal(t, []int{0, 1, 4, 9, 16, 25, 36, 49, 64, 81}, got)
}

func TestRegisteredCalls(t *testing.T) {
	t.Parallel()
	m := newManager(t)
	c := must[*managers.Proxy](t)(managers.New(m, "Counter", 10))
	assert.Equal(t, "Counter", c.TypeID())
	assert.Equal(t, 15, must[int](t)(managers.Call[int](c, "Add", 5)))
	var (
		n int
		s string
	)
	require.NoError(t, c.CallInto("Both", []any{4, "ab"}, &n, &s))
	assert.Equal(t, 8, n)
	assert.Equal(t, "abab", s)
	assert.Equal(t, 6, must[int](t)(managers.Call[int](c, "Sum", 1, 2, 3)))
	assert.Equal(t, 0, must[int](t)(managers.Call[int](c, "Sum")))

	// Misuse: arguments that do not fit, too many results wanted, a
	// method that does not exist.
	assert.ErrorIs(t, c.Call("Add"), mp.ErrArgs)
	assert.ErrorIs(t, c.Call("Add", "five"), mp.ErrArgs)
	assert.ErrorIs(t, c.CallInto("Add", []any{1}, &n, &s), mp.ErrArgs)
	assert.ErrorIs(t, c.Call("Nope"), managers.ErrNotExposed)
	assert.ErrorIs(t, c.Call("Add", func() {}), mp.ErrBadMessage, "a function cannot be encoded")

	// (The call that wanted too many results did add 1: the results are
	// counted when they come back.)

	// A panic comes back as a RemoteError with the server's stack.
	var re *managers.RemoteError
	require.ErrorAs(t, c.Call("Boom"), &re)
	assert.Equal(t, "boom", re.Panic)
	assert.Contains(t, re.Stack, "managers_test.(*Counter).Boom")
	assert.EqualError(t, re, "mp: Counter.Boom panicked in the manager: boom")
	// The server goes on.
	assert.Equal(t, 17, must[int](t)(managers.Call[int](c, "Add", 1)))

	// The constructor's error; an unregistered type id.
	_, err := managers.New(m, "Counter", -1)
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "constructor", re.Method)
	assert.Contains(t, err.Error(), "a counter starts at zero or more")
	_, err = managers.New(m, "Nobody")
	assert.ErrorIs(t, err, managers.ErrNotRegistered)
	_, err = managers.New(m, "Counter")
	assert.ErrorIs(t, err, mp.ErrArgs)
}

// TestRegisteredIdentity: a constructor that returns the same pointer
// gives proxies of one object, as Python's register('get_queue',
// callable=lambda: queue) does.
func TestRegisteredIdentity(t *testing.T) {
	t.Parallel()
	m := newManager(t)
	a := must[*managers.Proxy](t)(managers.New(m, "shared"))
	b := must[*managers.Proxy](t)(managers.New(m, "shared"))
	assert.Equal(t, 1, must[int](t)(managers.Call[int](a, "Add", 1)))
	assert.Equal(t, 3, must[int](t)(managers.Call[int](b, "Add", 2)))
	// Distinct constructions are distinct objects.
	c := must[*managers.Proxy](t)(managers.New(m, "Counter", 0))
	d := must[*managers.Proxy](t)(managers.New(m, "Counter", 0))
	assert.Equal(t, 1, must[int](t)(managers.Call[int](c, "Add", 1)))
	assert.Equal(t, 1, must[int](t)(managers.Call[int](d, "Add", 1)))
}

// CounterProxy is a typed proxy, as the Proxy documentation shows.
type CounterProxy struct{ managers.Proxy }

func (c CounterProxy) Add(n int) (int, error) { return managers.Call[int](&c.Proxy, "Add", n) }

// BadProxy embeds a *Proxy, which cannot be decoded into.
type BadProxy struct{ *managers.Proxy }

func childTyped(c CounterProxy) error {
	_, err := c.Add(1)
	return err
}

func childBad(BadProxy) error { return nil }

// TestTypedProxyCrosses: a typed proxy crosses into children; one that
// embeds a *Proxy is refused with a message that says what to do.
func TestTypedProxyCrosses(t *testing.T) {
	t.Parallel()
	m := newManager(t)
	p := must[*managers.Proxy](t)(managers.New(m, "Counter", 0))
	forEachMethod(t, func(t *testing.T, method mp.StartMethod) {
		run(t, method, childTyped, CounterProxy{*p})
	})
	t.Cleanup(func() {
		assert.Equal(t, len(mp.AllStartMethods()), must[int](t)(CounterProxy{*p}.Add(0)))
		bad := mp.NewProcess(childBad, BadProxy{p})
		start(t, bad)
		assert.ErrorContains(t, bad.Join(), "must embed managers.Proxy, not *managers.Proxy")
	})
}

func childCounter(c *managers.Proxy, n int) error {
	for range n {
		if err := c.Call("Add", 1); err != nil {
			return err
		}
	}
	return nil
}

// TestRegisteredInChildren: a Proxy crosses into children, under every
// start method.
func TestRegisteredInChildren(t *testing.T) {
	t.Parallel()
	m := newManager(t)
	c := must[*managers.Proxy](t)(managers.New(m, "Counter", 0))
	var ps []*mp.Process
	for _, method := range mp.AllStartMethods() {
		p := mp.NewProcess(childCounter, c, 50)
		p.StartMethod = method
		ps = append(ps, start(t, p))
	}
	for _, p := range ps {
		require.NoError(t, p.Join())
	}
	assert.Equal(t, 50*len(ps), must[int](t)(managers.Call[int](c, "Add", 0)))
}

// TestMethodContext: a method that takes a context sees it end when the
// caller's CallContext context ends. The server runs in this process, so
// that the test hears from the method.
func TestMethodContext(t *testing.T) {
	srv, m := inProcess(t)
	_ = srv
	c := must[*managers.Proxy](t)(managers.New(m, "Counter", 0))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	began := time.Now()
	err := c.CallContext(ctx, "Block", nil)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, <-blocked, context.Canceled, "the method's context ended")
	assert.Less(t, time.Since(began), 5*time.Second)
}

func TestModify(t *testing.T) {
	t.Parallel()
	m := newManager(t)
	d := must[*managers.Dict[string, []string]](t)(managers.NewDict[string, []string](m))
	assert.Equal(t, []string{"w0"}, must[[]string](t)(d.Modify("k", appendWord)))
	assert.Equal(t, []string{"w0", "w1"}, must[[]string](t)(d.Modify("k", appendWord)))
	assert.Equal(t, []string{"w0", "w1"}, must[[]string](t)(d.Get("k")))

	ints := must[*managers.Dict[string, int]](t)(managers.NewDict[string, int](m))
	require.NoError(t, ints.Set("k", 1))
	var re *managers.RemoteError
	_, err := ints.Modify("k", explode)
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "exploded", re.Panic)
	assert.Equal(t, 1, must[int](t)(ints.Get("k")), "a panicking function changes nothing")
	_, err = ints.Modify("k", notRegistered)
	assert.ErrorIs(t, err, managers.ErrNotRegistered)
	_, err = ints.Modify("k", func(old int, found bool) int { return old })
	assert.ErrorIs(t, err, managers.ErrNotRegistered, "a closure")
}

// inProcess runs a server in this process, with a Manager connected to
// it; both are closed when the test ends.
func inProcess(t testing.TB) (*managers.Server, *managers.Manager) {
	t.Helper()
	srv, err := managers.NewServer("", "", nil)
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	t.Cleanup(func() {
		require.NoError(t, srv.Close())
		require.NoError(t, <-served)
	})
	family, address := srv.Addr()
	m, err := managers.ConnectManager(family, address, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	return srv, m
}
