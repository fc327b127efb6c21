package managers_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/connection"
	"github.com/go-mp/mp/internal/conntest"
	"github.com/go-mp/mp/managers"
)

// MP_SOAK=duration (conntest.SoakEnv) makes TestAbuse and
// TestAtomicIncrements play rounds until that much time has passed:
// go test -run 'Abuse|Atomic' -timeout 0 ./managers.

func init() { targets = append(targets, abuser, childIncrements) }

// randomSize returns a size from 0 bytes to above a socket's buffer.
func randomSize(rng *rand.Rand) int {
	switch rng.IntN(4) {
	case 0:
		return 0
	case 1:
		return rng.IntN(256)
	case 2:
		return 64<<10 + rng.IntN(512<<10)
	}
	return rng.IntN(1 << 20)
}

// abuser sets and reads back values of random sizes under keys of its
// own in a shared dict, and in a list of its own, from two goroutines at
// once; a value that comes back different makes it fail.
func abuser(d *managers.Dict[string, []byte], m *managers.Manager, seed uint64, n int) error {
	l, err := managers.NewList[[]byte](m)
	if err != nil {
		return err
	}
	errs := make(chan error, 2)
	for g := range 2 {
		go func() {
			rng := rand.New(rand.NewPCG(seed, uint64(g)))
			for i := range n {
				msg := conntest.Message(int(seed)+i, randomSize(rng))
				key := fmt.Sprintf("%d-%d-%d", seed, g, i%4)
				if err := d.Set(key, msg); err != nil {
					errs <- err
					return
				}
				got, err := d.Get(key)
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got, msg) {
					errs <- fmt.Errorf("%s: %d bytes came back as %d other bytes", key, len(msg), len(got))
					return
				}
				if err := l.Append(msg); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			return err
		}
	}
	k, err := l.Len()
	if err != nil {
		return err
	}
	return check(k == 2*n, "the list has %d items, not %d", k, 2*n)
}

// TestAbuse: children set and read values of random sizes (0 bytes to
// above a socket's buffer) concurrently, while peers without the key
// connect and say nothing or garbage, a peer with the key sends garbage
// requests, and some children are killed at random instants. Every child
// that is not killed gets every value back whole; the server serves on;
// and once the children are gone, the objects only they held are gone.
func TestAbuse(t *testing.T) {
	kills := 0
	conntest.Soak(t, 1, func(round uint64) { kills += abuseRound(t, round) })
	t.Logf("%d children killed", kills)
}

func abuseRound(t *testing.T, round uint64) (kills int) {
	const children, values = 6, 40
	srv, m := inProcess(t)
	family, address := srv.Addr()
	d := must[*managers.Dict[string, []byte]](t)(managers.NewDict[string, []byte](m))
	rng := rand.New(rand.NewPCG(round, uint64(time.Now().UnixNano())))

	var ps []*mp.Process
	killed := map[*mp.Process]bool{}
	for i := range children {
		p := mp.NewProcess(abuser, d, m, round*1000+uint64(i)*100, values)
		p.StartMethod = mp.AllStartMethods()[i%len(mp.AllStartMethods())]
		require.NoError(t, p.Start())
		ps = append(ps, p)
		t.Cleanup(func() { _ = p.Kill(); _ = p.Join() })
		if rng.IntN(3) == 0 {
			// At a random instant of its life: starting, connecting or
			// in the middle of a call.
			killed[p] = true
			k := time.AfterFunc(time.Duration(rng.IntN(300))*time.Millisecond, func() { _ = p.Kill() })
			defer k.Stop()
		}
	}
	garbage(t, family, address)
	for _, p := range ps {
		err := p.JoinTimeout(2 * time.Minute)
		require.NotErrorIs(t, err, mp.ErrStillRunning, "%s hangs", p.Name)
		if killed[p] {
			var e *mp.ExitError
			if errors.As(err, &e) && e.Code == -9 {
				kills++
				continue
			}
		}
		assert.NoError(t, err, "%s", p.Name)
	}
	// The server serves on, and forgets the children's lists.
	require.NoError(t, d.Set("after", []byte("all")))
	assert.Equal(t, []byte("all"), must[[]byte](t)(d.Get("after")))
	objectsBecome(t, srv, m, 1)
	return kills
}

// garbage connects to a server as peers that should not be there: without
// the key, and with the key but saying what makes no sense. Each is
// refused or answered with an error, and the server goes on.
func garbage(t *testing.T, family, address string) {
	t.Helper()
	_, err := managers.ConnectManager(family, address, []byte("wrong"))
	assert.ErrorIs(t, err, mp.ErrAuth, "a wrong key")

	hello := func(c *mp.Conn, version int64, primary bool, session [16]byte) error {
		require.NoError(t, c.SendBytes(managers.Hello(version, primary, session)))
		b, err := c.RecvBytes()
		require.NoError(t, err)
		return managers.ReplyError(b)
	}
	dial := func() *mp.Conn {
		c, err := connection.Client(family, address, nil)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		return c
	}
	var session [16]byte
	session[0] = 1
	assert.ErrorContains(t, hello(dial(), 99, true, session), "version 99", "a hello from the future")
	assert.ErrorIs(t, hello(dial(), 1, false, session), managers.ErrManagerGone, "joining a session that is not there")
	c := dial()
	require.NoError(t, hello(c, 1, true, session))
	rng := rand.New(rand.NewPCG(1, 2))
	junk := make([]byte, 512)
	for range 50 {
		for j := range junk {
			junk[j] = byte(rng.Uint32())
		}
		msg := junk[:rng.IntN(len(junk))]
		require.NoError(t, c.SendBytes(msg))
		b, err := c.RecvBytes()
		require.NoError(t, err)
		assert.Error(t, managers.ReplyError(b), "garbage gets an error")
	}
}

// increment is the function of the Modify form.
func increment(old int, found bool) int { return old + 1 }

func init() { managers.RegisterFunc(increment) }

// childIncrements increments d["n"] n times, in the form how.
func childIncrements(d *managers.Dict[string, int], l *managers.Lock, how string, n int) error {
	for range n {
		var err error
		switch how {
		case "Add":
			_, err = d.Add("n", 1)
		case "Modify":
			_, err = d.Modify("n", increment)
		case "Lock":
			// Python's way: a lock around d[k] += 1.
			if err = l.Acquire(); err != nil {
				return err
			}
			var v int
			if v, err = d.GetDefault("n", 0); err == nil {
				err = d.Set("n", v+1)
			}
			if rerr := l.Release(); err == nil {
				err = rerr
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// TestAtomicIncrements: 8 processes incrementing one key concurrently, in
// each atomic form, give the exact total. MP_SOAK repeats it, with 10 000
// increments a process.
func TestAtomicIncrements(t *testing.T) {
	m := newManager(t)
	n := 300
	switch {
	case os.Getenv(conntest.SoakEnv) != "":
		n = 10_000
	case underWine():
		n = 50 // a round trip over Wine's loopback TCP takes a few milliseconds
	}
	conntest.Soak(t, 1, func(round uint64) {
		for _, how := range []string{"Add", "Modify", "Lock"} {
			d := must[*managers.Dict[string, int]](t)(managers.NewDict[string, int](m))
			l := must[*managers.Lock](t)(managers.NewLock(m))
			var ps []*mp.Process
			for i := range 8 {
				p := mp.NewProcess(childIncrements, d, l, how, n)
				p.StartMethod = mp.AllStartMethods()[i%len(mp.AllStartMethods())]
				ps = append(ps, start(t, p))
			}
			for _, p := range ps {
				require.NoError(t, p.Join())
			}
			assert.Equal(t, 8*n, must[int](t)(d.Get("n")), "%s, round %d", how, round)
		}
	})
}
