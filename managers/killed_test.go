package managers_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/connection"
	"github.com/go-mp/mp/managers"
)

// The server killed mid-call: every caller, waiting in a Get or calling
// in a loop, in this process or a child, gets an error wrapping
// ErrManagerGone within a second.

func init() { targets = append(targets, childUntilGone) }

// untilGone calls until the manager is gone: a Get that waits for ever if
// blocking, else Adds in a loop. It says ready after its first call, and
// returns nil only for an error wrapping ErrManagerGone.
func untilGone(d *managers.Dict[string, int], q *managers.Queue[int], ready func(), blocking bool) error {
	if _, err := d.Add("calls", 1); err != nil {
		return err
	}
	ready()
	var err error
	if blocking {
		_, err = q.Get()
	} else {
		for err == nil {
			_, err = d.Add("calls", 1)
		}
	}
	if errors.Is(err, managers.ErrManagerGone) {
		return nil
	}
	return fmt.Errorf("not ErrManagerGone: %w", err)
}

func childUntilGone(d *managers.Dict[string, int], q *managers.Queue[int], ready *mp.Conn, blocking bool) error {
	return untilGone(d, q, func() { _ = ready.Send(true); ready.Close() }, blocking)
}

func TestServerKilled(t *testing.T) {
	t.Parallel()
	t.Run("NewManager", func(t *testing.T) {
		t.Parallel()
		m := newManager(t)
		// The Manager that started the server watches its process: its
		// callers need no end of file, even under Wine.
		killedRound(t, m, m.Process(), !underWine())
	})
	t.Run("remote", func(t *testing.T) {
		t.Parallel()
		if underWine() {
			t.Skip("Wine 8 keeps a socket of a killed process open when it had I/O pending, so its peer never sees end of file (see connection's TestListenerKilled)")
		}
		p, address := startRemote(t, connection.DefaultFamily(), nil)
		m, err := managers.ConnectManager(connection.DefaultFamily(), address, nil)
		require.NoError(t, err)
		t.Cleanup(func() { _ = m.Close() })
		killedRound(t, m, p, true)
	})
}

// killedRound kills server while callers call m's objects, in this process
// and, if children, in children too.
func killedRound(t *testing.T, m *managers.Manager, server *mp.Process, children bool) {
	d := must[*managers.Dict[string, int]](t)(managers.NewDict[string, int](m))
	q := must[*managers.Queue[int]](t)(managers.NewQueue[int](m, 0))
	var wg sync.WaitGroup
	var ready sync.WaitGroup
	errs := make(chan error, 2)
	for _, blocking := range []bool{false, true} {
		ready.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- untilGone(d, q, ready.Done, blocking)
		}()
	}
	var ps []*mp.Process
	if children {
		for _, blocking := range []bool{false, true} {
			in, out, err := mp.Pipe(false)
			require.NoError(t, err)
			ps = append(ps, start(t, mp.NewProcess(childUntilGone, d, q, out, blocking)))
			require.NoError(t, out.Close())
			var ok bool
			require.NoError(t, in.Recv(&ok))
			require.NoError(t, in.Close())
		}
	}
	ready.Wait()
	require.NoError(t, server.Kill())
	killed := time.Now()
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	for _, p := range ps {
		assert.NoError(t, p.Join())
	}
	assert.Less(t, time.Since(killed), time.Second, "every caller heard within a second")
	// Later calls fail at once too.
	began := time.Now()
	assert.ErrorIs(t, d.Set("x", 1), managers.ErrManagerGone)
	_, err := managers.NewList[int](m)
	assert.ErrorIs(t, err, managers.ErrManagerGone)
	assert.Less(t, time.Since(began), time.Second)
}

func init() { targets = append(targets, ownsManager) }

// ownsManager starts a manager, says where it listens, and waits to be
// killed.
func ownsManager(out *mp.Conn) error {
	m, err := managers.NewManager()
	if err != nil {
		return err
	}
	family, address := m.Address()
	if err := out.Send([2]string{family, address}); err != nil {
		return err
	}
	var never bool
	return out.Recv(&never)
}

// TestManagerDiesWithParent: the manager's process is orphan-proof like
// every child: when the process that started it is killed, it ends, and
// its address refuses connections.
func TestManagerDiesWithParent(t *testing.T) {
	t.Parallel()
	if underWine() {
		t.Skip("Wine 8 keeps a killed process's sockets open (see TestServerKilled/remote), so the address would not refuse")
	}
	a, b, err := mp.Pipe(true)
	require.NoError(t, err)
	defer a.Close()
	p := start(t, mp.NewProcess(ownsManager, b))
	require.NoError(t, b.Close())
	var where [2]string
	require.NoError(t, a.Recv(&where))
	m, err := managers.ConnectManager(where[0], where[1], nil)
	require.NoError(t, err)
	require.NoError(t, m.Close())

	require.NoError(t, p.Kill())
	_ = p.Join()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := managers.ConnectManager(where[0], where[1], nil)
		if err != nil {
			assert.ErrorIs(t, err, managers.ErrManagerGone)
			return
		}
		require.NoError(t, m.Close())
		require.True(t, time.Now().Before(deadline), "the manager outlived its parent by 10 s")
	}
}
