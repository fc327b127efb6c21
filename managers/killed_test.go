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
// returns when its call failed, or an error if the failure does not wrap
// ErrManagerGone.
func untilGone(d *managers.Dict[string, int], q *managers.Queue[int], ready func(), blocking bool) (time.Time, error) {
	if _, err := d.Add("calls", 1); err != nil {
		return time.Time{}, err
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
	failed := time.Now()
	if !errors.Is(err, managers.ErrManagerGone) {
		return failed, fmt.Errorf("not ErrManagerGone: %w", err)
	}
	return failed, nil
}

// childUntilGone is untilGone in a child: once its call has failed, it
// hears from its parent when the server was killed, and fails if its call
// failed more than a second later.
func childUntilGone(d *managers.Dict[string, int], q *managers.Queue[int], c *mp.Conn, blocking bool) error {
	failed, err := untilGone(d, q, func() { _ = c.Send(true) }, blocking)
	if err != nil {
		return err
	}
	var killed int64
	if err := c.Recv(&killed); err != nil {
		return err
	}
	if late := failed.Sub(time.Unix(0, killed)); late > time.Second {
		return fmt.Errorf("the call failed %v after the server was killed", late)
	}
	return nil
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
// and, if children, in children too: every call fails within a second.
func killedRound(t *testing.T, m *managers.Manager, server *mp.Process, children bool) {
	d := must[*managers.Dict[string, int]](t)(managers.NewDict[string, int](m))
	q := must[*managers.Queue[int]](t)(managers.NewQueue[int](m, 0))
	var ready sync.WaitGroup
	type result struct {
		failed time.Time
		err    error
	}
	results := make(chan result, 2)
	for _, blocking := range []bool{false, true} {
		ready.Add(1)
		go func() {
			failed, err := untilGone(d, q, ready.Done, blocking)
			results <- result{failed, err}
		}()
	}
	var ps []*mp.Process
	var conns []*mp.Conn
	if children {
		for _, blocking := range []bool{false, true} {
			a, b, err := mp.Pipe(true)
			require.NoError(t, err)
			t.Cleanup(func() { a.Close() })
			ps = append(ps, start(t, mp.NewProcess(childUntilGone, d, q, b, blocking)))
			require.NoError(t, b.Close())
			var ok bool
			require.NoError(t, a.Recv(&ok))
			conns = append(conns, a)
		}
	}
	ready.Wait()
	require.NoError(t, server.Kill())
	killed := time.Now()
	for _, c := range conns {
		require.NoError(t, c.Send(killed.UnixNano()))
	}
	for range 2 {
		r := <-results
		assert.NoError(t, r.err)
		assert.Less(t, r.failed.Sub(killed), time.Second, "a call failed within a second")
	}
	for _, p := range ps {
		assert.NoError(t, p.Join())
	}
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
