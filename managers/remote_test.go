package managers_test

import (
	"crypto/rand"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/connection"
	"github.com/go-mp/mp/managers"
)

// Ports of CPython's _TestRemoteManager and _TestManagerRestart: a server
// that a program runs itself, on TCP with a key, and clients that connect
// from other processes.

func init() { targets = append(targets, serveRemote, putter, childKeyed) }

// serveRemote is a program that serves others: it listens, says where,
// and serves until shut down or killed.
func serveRemote(out *mp.Conn, family string, key []byte) error {
	srv, err := managers.NewServer(family, "", key)
	if err != nil {
		return err
	}
	defer srv.Close()
	f, a := srv.Addr()
	if err := out.Send([2]string{f, a}); err != nil {
		return err
	}
	out.Close()
	return srv.Serve()
}

// remoteValues are CPython's values of _TestRemoteManager.
var remoteValues = []any{"hello world", nil, true, 2.25, "hall\u00e5 v\u00e4rlden",
	"\u043f\u0440\u0438\u0432\u0456\u0442 \u0441\u0432\u0456\u0442", []byte("hall\xe5 v\xe4rlden")}

// putter connects to a server it knows only by address and key, and puts
// remoteValues on its queue named "queue".
func putter(family, address string, key []byte) error {
	m, err := managers.ConnectManager(family, address, key)
	if err != nil {
		return err
	}
	defer m.Close()
	q, err := managers.NewQueue[[]any](m, 0, managers.Name("queue"))
	if err != nil {
		return err
	}
	return q.Put(remoteValues)
}

// startRemote starts serveRemote in a child and returns it and where it
// listens.
func startRemote(t *testing.T, family string, key []byte) (p *mp.Process, address string) {
	t.Helper()
	in, out, err := mp.Pipe(false)
	require.NoError(t, err)
	defer in.Close()
	p = start(t, mp.NewProcess(serveRemote, out, family, key))
	require.NoError(t, out.Close())
	var where [2]string
	require.NoError(t, in.Recv(&where))
	return p, where[1]
}

func TestRemoteManager(t *testing.T) {
	t.Parallel()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	_, address := startRemote(t, connection.FamilyTCP, key)

	p := start(t, mp.NewProcess(putter, connection.FamilyTCP, address, key))
	m, err := managers.ConnectManager(connection.FamilyTCP, address, key)
	require.NoError(t, err)
	defer m.Close()
	q := must[*managers.Queue[[]any]](t)(managers.NewQueue[[]any](m, 0, managers.Name("queue")))
	got := must[[]any](t)(q.Get())
	require.NoError(t, p.Join())
	assert.Equal(t, remoteValues, got)

	// What cannot be encoded is refused before it is sent.
	funcs := must[*managers.Queue[any]](t)(managers.NewQueue[any](m, 0))
	assert.ErrorIs(t, funcs.Put(runtime.GC), mp.ErrBadMessage)
	// A named object of another type.
	_, err = managers.NewDict[string, int](m, managers.Name("queue"))
	assert.ErrorIs(t, err, managers.ErrNotRegistered)
	// Only the Manager that started a server shuts it down.
	assert.ErrorIs(t, m.Shutdown(), managers.ErrNotOwnerManager)
}

// TestRemoteWrongKey: a client with another key is refused before the
// server decodes anything, and the server goes on serving.
func TestRemoteWrongKey(t *testing.T) {
	t.Parallel()
	key := []byte("abracadabra")
	_, address := startRemote(t, connection.DefaultFamily(), key)
	_, err := managers.ConnectManager(connection.DefaultFamily(), address, []byte("open sesame"))
	assert.ErrorIs(t, err, mp.ErrAuth)
	_, err = managers.ConnectManager(connection.DefaultFamily(), address, nil)
	assert.ErrorIs(t, err, mp.ErrAuth, "the tree's key is not the server's")
	m, err := managers.ConnectManager(connection.DefaultFamily(), address, key)
	require.NoError(t, err)
	defer m.Close()
	d := must[*managers.Dict[string, int]](t)(managers.NewDict[string, int](m))
	require.NoError(t, d.Set("a", 1))
}

func childKeyed(d *managers.Dict[string, int]) error { return d.Set("child", 2) }

// TestAuthKeyCrosses: a proxy of a manager with a key of its own carries
// the key into children.
func TestAuthKeyCrosses(t *testing.T) {
	t.Parallel()
	m := newManager(t, managers.AuthKey([]byte("a key of its own")))
	d := must[*managers.Dict[string, int]](t)(managers.NewDict[string, int](m))
	forEachMethod(t, func(t *testing.T, method mp.StartMethod) {
		run(t, method, childKeyed, d)
	})
	t.Cleanup(func() { assert.Equal(t, 2, must[int](t)(d.Get("child"))) })
}

// TestManagerAddress: NewManager on an address of each family.
func TestManagerAddress(t *testing.T) {
	t.Parallel()
	families := map[string]string{connection.FamilyTCP: "127.0.0.1:0"}
	if runtime.GOOS != "windows" {
		families[connection.FamilyUnix] = filepath.Join(t.TempDir(), "manager.sock")
	}
	for family, address := range families {
		t.Run(family, func(t *testing.T) {
			t.Parallel()
			m := newManager(t, managers.Address(family, address))
			f, a := m.Address()
			assert.Equal(t, family, f)
			if family == connection.FamilyUnix {
				assert.Equal(t, address, a)
			}
			l := must[*managers.List[string]](t)(managers.NewList[string](m))
			require.NoError(t, l.Append("x"))
			assert.Equal(t, []string{"x"}, must[[]string](t)(l.All()))
		})
	}
}

// TestManagerRestart: a server started again on the same address serves
// anew; a proxy of the first one's objects gets ErrObjectGone.
func TestManagerRestart(t *testing.T) {
	t.Parallel()
	m := newManager(t, managers.Address(connection.FamilyTCP, "127.0.0.1:0"))
	family, address := m.Address()
	d := must[*managers.Dict[string, int]](t)(managers.NewDict[string, int](m))
	old, err := d.MarshalBinary()
	require.NoError(t, err)
	require.NoError(t, m.Shutdown())
	assert.ErrorIs(t, d.Set("a", 1), managers.ErrClosed)
	require.NoError(t, m.Shutdown(), "twice is harmless")

	m2 := newManager(t, managers.Address(family, address))
	var d2 managers.Dict[string, int]
	require.NoError(t, d2.UnmarshalBinary(old))
	assert.ErrorIs(t, d2.Set("a", 1), managers.ErrObjectGone)
	fresh := must[*managers.Dict[string, int]](t)(managers.NewDict[string, int](m2))
	require.NoError(t, fresh.Set("a", 1))
}
