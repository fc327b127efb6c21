package connection_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/connection"
	"github.com/go-mp/mp/internal/conntest"
)

func init() { targets = append(targets, chatter) }

// chatter connects and sends n messages of random sizes (0 bytes to 1 MiB,
// many above a socket's buffer), checking that each comes back whole; a
// message that comes back different makes it fail.
func chatter(family, address string, seed uint64, n int) error {
	c, err := connection.Client(family, address, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	rng := rand.New(rand.NewPCG(seed, seed))
	for i := range n {
		var size int
		switch rng.IntN(4) {
		case 0:
			size = rng.IntN(1 << 20)
		case 1:
			size = rng.IntN(256)
		case 2:
			size = 64<<10 + rng.IntN(256<<10)
		}
		msg := conntest.Message(int(seed)+i, size)
		if err := c.SendBytes(msg); err != nil {
			return err
		}
		got, err := c.RecvBytes()
		if err != nil {
			return err
		}
		if string(got) != string(msg) {
			return fmt.Errorf("message %d of %d bytes came back as %d other bytes", i, size, len(got))
		}
	}
	return nil
}

// TestListenerAbuse: children connect at once and exchange messages of
// random sizes with an echoing server, while silent and garbage peers
// connect too, a watcher polls every connection with connection.Wait
// beside the receives, and some children are killed at random instants.
// Every child that is not killed gets every message back whole; every
// server goroutine ends once its child is gone; nothing waits past its
// bound. MP_SOAK=duration repeats the rounds (and TestListenerKilled's) for
// that long: go test -run 'Abuse|Killed' -timeout 0 ./connection.
func TestListenerAbuse(t *testing.T) {
	t.Parallel()
	kills := 0
	conntest.Soak(t, 1, func(round uint64) { kills += abuseRound(t, round) })
	t.Logf("%d children killed", kills)
}

func abuseRound(t *testing.T, round uint64) (kills int) {
	const children, messages, silent, garbage = 8, 30, 50, 5
	family := connection.DefaultFamily()
	l, err := connection.Listen(family, "", nil)
	require.NoError(t, err)
	defer l.Close()
	fam, addr := l.Addr()
	rng := rand.New(rand.NewPCG(round, uint64(time.Now().UnixNano())))

	// The server: a goroutine per connection echoing until its peer is
	// gone, and a watcher waiting on all of them at once.
	var (
		mu      sync.Mutex
		open    = map[*mp.Conn]bool{}
		serving sync.WaitGroup
	)
	stopWatch := make(chan struct{})
	watched := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stopWatch:
				watched <- nil
				return
			default:
			}
			mu.Lock()
			var objs []any
			for c := range open {
				objs = append(objs, c)
			}
			mu.Unlock()
			// A connection may close between the copy and the wait.
			if _, err := connection.Wait(objs, time.Millisecond); err != nil && !errors.Is(err, mp.ErrConnClosed) {
				watched <- err
				return
			}
		}
	}()
	accepted := make(chan error, 1)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				accepted <- err
				return
			}
			mu.Lock()
			open[c] = true
			mu.Unlock()
			serving.Go(func() {
				defer func() {
					mu.Lock()
					delete(open, c)
					mu.Unlock()
					c.Close()
				}()
				for {
					b, err := c.RecvBytes()
					if err != nil || c.SendBytes(b) != nil {
						return
					}
				}
			})
		}
	}()

	var peers []net.Conn
	defer func() {
		for _, nc := range peers {
			nc.Close()
		}
	}()
	var ps []*mp.Process
	killed := map[*mp.Process]bool{}
	for i := range children {
		p := mp.NewProcess(chatter, fam, addr, round*1000+uint64(i)*100, messages)
		require.NoError(t, p.Start())
		ps = append(ps, p)
		if rng.IntN(3) == 0 {
			// At a random instant of its life: starting, connecting or
			// in the middle of a message.
			killed[p] = true
			k := time.AfterFunc(time.Duration(rng.IntN(60))*time.Millisecond, func() { _ = p.Kill() })
			defer k.Stop()
		}
	}
	for i := range silent + garbage {
		nc, err := net.Dial(fam, addr)
		require.NoError(t, err)
		peers = append(peers, nc)
		if i < garbage {
			_, _ = nc.Write([]byte{0x7f, 0xff, 0xff, 0xff, 'x'})
		}
	}
	for _, p := range ps {
		err := p.JoinTimeout(2 * time.Minute)
		require.NotErrorIs(t, err, mp.ErrStillRunning, "%s hangs", p.Name)
		_ = p.Close()
		if killed[p] {
			var e *mp.ExitError
			if errors.As(err, &e) && e.Code == -9 {
				kills++
				continue
			}
		}
		assert.NoError(t, err, "%s", p.Name)
	}
	// Every server goroutine ends with its child.
	done := make(chan struct{})
	go func() { serving.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("a server goroutine did not end after its child was gone")
	}
	close(stopWatch)
	assert.NoError(t, <-watched, "connection.Wait beside the receives")
	require.NoError(t, l.Close())
	assert.ErrorIs(t, <-accepted, mp.ErrConnClosed)
	return kills
}

func init() { targets = append(targets, listenAndEcho) }

// listenAndEcho listens, says where on out, and echoes every message on
// every connection until it is killed.
func listenAndEcho(out *mp.Conn) error {
	l, err := connection.Listen("", "", nil)
	if err != nil {
		return err
	}
	defer l.Close()
	fam, addr := l.Addr()
	if err := out.Send([2]string{fam, addr}); err != nil {
		return err
	}
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			for {
				b, err := c.RecvBytes()
				if err != nil || c.SendBytes(b) != nil {
					return
				}
			}
		}()
	}
}

// TestListenerKilled: a Listener's process killed at a random instant,
// while clients exchange messages of random sizes with it, leaves each
// client with an error (end of file, a reset, a truncated frame), never a
// hang and never a corrupt message; a Wait on the clients wakes at once.
// MP_SOAK repeats it.
func TestListenerKilled(t *testing.T) {
	t.Parallel()
	if underWine() {
		// Seen with ss(8): the killed process's end of one connection stays
		// ESTABLISHED, held by wineserver alone, so the client's read never
		// ends; Windows closes every socket of a terminated process.
		t.Skip("Wine 8 keeps a socket of a killed process open when it had I/O pending, so its peer never sees end of file")
	}
	conntest.Soak(t, 3, func(round uint64) { killedRound(t, round) })
}

func killedRound(t *testing.T, round uint64) {
	const clients = 4
	out, outChild := pipe(t)
	p := start(t, mp.NewProcess(listenAndEcho, outChild))
	require.NoError(t, outChild.Close())
	var where [2]string
	require.NoError(t, out.Recv(&where))

	rng := rand.New(rand.NewPCG(round, uint64(time.Now().UnixNano())))
	var cs []*mp.Conn
	for range clients {
		c, err := connection.Client(where[0], where[1], nil)
		require.NoError(t, err)
		defer c.Close()
		cs = append(cs, c)
	}
	errs := make(chan error, clients)
	for i, c := range cs {
		go func() {
			for k := 0; ; k++ {
				size := []int{0, 100, 70 << 10, 600 << 10}[(i+k)%4]
				msg := conntest.Message(i*1000+k, size)
				if err := c.SendBytes(msg); err != nil {
					errs <- nil // the peer is gone: a send fails
					return
				}
				got, err := c.RecvBytes()
				if err != nil {
					errs <- nil
					return
				}
				if string(got) != string(msg) {
					errs <- fmt.Errorf("client %d, message %d: %d bytes came back as %d other bytes", i, k, size, len(got))
					return
				}
			}
		}()
	}
	select {
	case <-p.Done():
		t.Fatalf("the listener's process exited: %v", p.Join())
	case <-time.After(time.Duration(rng.IntN(50)) * time.Millisecond):
	}
	require.NoError(t, p.Kill())
	var e *mp.ExitError
	require.ErrorAs(t, p.JoinTimeout(time.Minute), &e)
	assert.Equal(t, -9, e.Code)
	for range clients {
		select {
		case err := <-errs:
			assert.NoError(t, err)
		case <-time.After(time.Minute):
			t.Fatal("a client hangs after its listener was killed")
		}
	}
	objs := make([]any, len(cs))
	for i, c := range cs {
		objs[i] = c
	}
	ready, err := connection.Wait(objs, time.Minute)
	require.NoError(t, err)
	assert.Len(t, ready, clients, "end of file is ready on every client")
}
