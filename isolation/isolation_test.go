package isolation_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/isolation"
)

// The tutorial's global, carried by Fork.
var money = 100

// config is carried too: a struct, a pointer and a map.
type config struct {
	Name  string
	Limit *int
	Tags  map[string]bool
}

var settings = config{Name: "initial"}

// notCarried is not registered: no start method carries it.
var notCarried = "initial"

// counted is registered by init in parent and child alike, as the
// registry must be: a name the child does not know fails its start.
var counted, other int

func init() {
	isolation.Inherit("money", &money)
	isolation.Inherit("settings", &settings)
	isolation.Inherit("counted", &counted)
}

// spend is the tutorial's child: it changes its own copy of money.
func spend() {
	fmt.Println("child sees", money)
	money = 999
	fmt.Println("child set", money)
}

func show() {
	limit := "nil"
	if settings.Limit != nil {
		limit = fmt.Sprint(*settings.Limit)
	}
	fmt.Printf("money=%d settings=%s/%s/%v notCarried=%s\n", money, settings.Name, limit, settings.Tags, notCarried)
}

// showTwoGenerations prints the start method it was started with and runs
// show in a child of its own, started with the default method.
func showTwoGenerations() error {
	fmt.Printf("method=%s\n", mp.GetStartMethod())
	money++ // the grandchild must see this, as of its Start
	p := mp.NewProcess(show)
	if err := p.Start(); err != nil {
		return err
	}
	return p.Join()
}

type opaque struct{ hidden int }

// badGlobalMain registers a global that cannot be carried and tries a Fork start.
func badGlobalMain() {
	var bad = opaque{hidden: 1}
	isolation.Inherit("bad", &bad)
	mp.Main(show)
	p := mp.NewProcess(show)
	p.StartMethod = mp.Fork
	fmt.Println(p.Start())
	p.StartMethod = mp.Spawn
	if err := p.Start(); err == nil {
		fmt.Println("spawn:", p.Join())
	}
}

func TestMain(m *testing.M) {
	if os.Getenv("MP_TEST_HELPER") == "badglobal" {
		badGlobalMain()
		os.Exit(0)
	}
	mp.Main(spend, show, showTwoGenerations)
	// Race-enabled children otherwise sleep 1 s at exit to flush reports.
	if os.Getenv("GORACE") == "" {
		os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
	code := m.Run()
	// The children that wait for work under Forkserver, and the goroutines
	// that watch them, are not leaks: Shutdown ends them.
	mp.Shutdown()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: errors on successful test run: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// lockedBuffer collects a child's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// run runs target in a child with the given method and returns its output.
func run(t *testing.T, method mp.StartMethod, target any) string {
	t.Helper()
	var out lockedBuffer
	p := mp.NewProcess(target)
	p.StartMethod = method
	p.Stdout = &out
	require.NoError(t, p.Start())
	t.Cleanup(func() {
		_ = p.Kill()
		_ = p.Join()
	})
	require.NoError(t, p.Join())
	return out.String()
}

// These tests change package globals, so they do not run in parallel.

func TestChildChangesStayInChild(t *testing.T) {
	for _, m := range mp.AllStartMethods() {
		t.Run(string(m), func(t *testing.T) {
			assert.Equal(t, "child sees 100\nchild set 999\n", run(t, m, spend))
			assert.Equal(t, 100, money, "the parent's money")
		})
	}
}

func TestForkCarriesRegisteredGlobals(t *testing.T) {
	limit := 7
	money, settings, notCarried = 500, config{Name: "changed", Limit: &limit, Tags: map[string]bool{"x": true}}, "changed"
	t.Cleanup(func() { money, settings, notCarried = 100, config{Name: "initial"}, "initial" })

	assert.Equal(t, "money=500 settings=changed/7/map[x:true] notCarried=initial\n", run(t, mp.Fork, show))
	assert.Equal(t, "money=100 settings=initial/nil/map[] notCarried=initial\n", run(t, mp.Spawn, show))
}

func TestForkCarriesValuesAsOfStart(t *testing.T) {
	t.Cleanup(func() { money = 100 })
	money = 1
	var out lockedBuffer
	p := mp.NewProcess(show)
	p.StartMethod = mp.Fork
	p.Stdout = &out
	require.NoError(t, p.Start())
	t.Cleanup(func() { _ = p.Kill(); _ = p.Join() })
	money = 2 // after Start: the child must not see it
	require.NoError(t, p.Join())
	assert.True(t, strings.HasPrefix(out.String(), "money=1 "), out.String())
}

func TestDefaultStartMethod(t *testing.T) {
	assert.Equal(t, mp.Spawn, mp.GetStartMethod())
	t.Cleanup(func() { require.NoError(t, mp.SetStartMethod(mp.Spawn)) })
	require.NoError(t, mp.SetStartMethod(mp.Fork))
	money = 321
	t.Cleanup(func() { money = 100 })
	assert.True(t, strings.HasPrefix(run(t, "", show), "money=321 "), "zero StartMethod uses the default")
}

// TestChildKeepsItsStartMethod checks that a child reports the method it
// was started with, and that its own children default to it, so that Fork
// carries the registered globals to every generation, as a forked Python
// child's children are forked.
func TestChildKeepsItsStartMethod(t *testing.T) {
	money = 500
	t.Cleanup(func() { money = 100 })
	assert.Equal(t, "method=fork\nmoney=501 settings=initial/nil/map[] notCarried=initial\n", run(t, mp.Fork, showTwoGenerations))
	assert.Equal(t, "method=spawn\nmoney=100 settings=initial/nil/map[] notCarried=initial\n", run(t, mp.Spawn, showTwoGenerations))
	assert.Equal(t, "method=forkserver\nmoney=100 settings=initial/nil/map[] notCarried=initial\n", run(t, mp.Forkserver, showTwoGenerations))
	assert.Equal(t, mp.Spawn, mp.GetStartMethod(), "the parent's default is its own")
}

func TestUncarriableGlobal(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "MP_TEST_HELPER=badglobal")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, 3, string(out))
	assert.Equal(t, `mp: cannot carry global "bad" (isolation_test.opaque): mp: bad message: cannot encode isolation_test.opaque: field isolation_test.opaque.hidden is unexported (export it, tag it `+"`"+`mp:"-"`+"`"+` to leave it behind, or implement encoding.BinaryMarshaler)`, lines[0])
	// Spawn carries no globals, so it is unaffected.
	assert.Equal(t, "money=100 settings=initial/nil/map[] notCarried=initial", lines[1])
	assert.Equal(t, "spawn: <nil>", lines[2])
}

func TestInheritMisuse(t *testing.T) {
	assert.NotPanics(t, func() { isolation.Inherit("counted", &counted) }, "the same pointer again")
	assert.PanicsWithValue(t, `mp: isolation.Inherit("counted"): name already registered for another *int`,
		func() { isolation.Inherit("counted", &other) })
	assert.Panics(t, func() { isolation.Inherit("y", other) })
	assert.Panics(t, func() { isolation.Inherit("z", nil) })
	assert.Panics(t, func() { isolation.Inherit("", &other) })
	assert.Equal(t, []string{"counted", "money", "settings"}, isolation.Names())
}
