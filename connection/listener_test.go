package connection_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/connection"
	"github.com/go-mp/mp/internal/conntest"
)

// dial connects to a Listener with the key it inherited, sends a greeting
// and returns what comes back.
func dial(family, address string) error {
	c, err := connection.Client(family, address, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Send(item{1, "from " + mp.CurrentProcess().Name}); err != nil {
		return err
	}
	var it item
	return c.Recv(&it)
}

func families() []string {
	if runtime.GOOS == "windows" {
		return []string{connection.FamilyTCP}
	}
	return []string{connection.FamilyUnix, connection.FamilyTCP}
}

// listen returns a Listener closed when the test ends; configure, if not
// nil, sets its fields before any Accept.
func listen(t *testing.T, family string, key []byte, configure func(*connection.Listener)) *connection.Listener {
	t.Helper()
	l, err := connection.Listen(family, "", key)
	require.NoError(t, err)
	if configure != nil {
		configure(l)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// rejections collects what a Listener's Rejected reports.
type rejections struct {
	mu   sync.Mutex
	errs []error
	c    chan error
}

func collect(l *connection.Listener) *rejections {
	r := &rejections{c: make(chan error, 1024)}
	l.Rejected = func(err error) {
		r.mu.Lock()
		r.errs = append(r.errs, err)
		r.mu.Unlock()
		select {
		case r.c <- err:
		default:
		}
	}
	return r
}

func (r *rejections) all() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

// serve accepts connections until l is closed, echoing one message on
// each; it returns a function that closes l and checks that serve stopped.
func serve(t *testing.T, l *connection.Listener) (stop func()) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		var wg sync.WaitGroup
		defer wg.Wait()
		for {
			c, err := l.Accept()
			if err != nil {
				done <- err
				return
			}
			wg.Go(func() {
				defer c.Close()
				b, err := c.RecvBytes()
				if err == nil {
					_ = c.SendBytes(b)
				}
			})
		}
	}()
	return func() {
		t.Helper()
		require.NoError(t, l.Close())
		assert.ErrorIs(t, <-done, mp.ErrConnClosed)
	}
}

func TestListenerChild(t *testing.T) {
	t.Parallel()
	for _, family := range families() {
		t.Run(family, func(t *testing.T) {
			t.Parallel()
			l := listen(t, family, nil, nil)
			fam, addr := l.Addr()
			assert.Equal(t, family, fam)
			p := start(t, mp.NewProcess(dial, fam, addr))
			assert.Nil(t, l.LastAccepted(), "before the first Accept")
			c, err := l.Accept()
			require.NoError(t, err)
			defer c.Close()
			switch peer := l.LastAccepted().(type) {
			case *net.TCPAddr:
				assert.Equal(t, connection.FamilyTCP, family)
				assert.True(t, peer.IP.IsLoopback(), "%v", peer)
				assert.NotEqual(t, addr, peer.String(), "the peer's address, not the listener's")
			case *net.UnixAddr:
				assert.Equal(t, connection.FamilyUnix, family)
			default:
				t.Errorf("LastAccepted: %T %v", peer, peer)
			}
			var it item
			require.NoError(t, c.Recv(&it))
			assert.Equal(t, item{1, "from " + p.Name}, it)
			require.NoError(t, c.Send(it))
			require.NoError(t, p.Join())
			ok, err := c.Poll(0)
			require.NoError(t, err)
			assert.True(t, ok, "end of file is readable")
			_, err = c.RecvBytes()
			assert.ErrorIs(t, err, io.EOF)
			assert.ErrorIs(t, c.Send(c), mp.ErrNotPassable)
		})
	}
}

func TestListenerWrongKey(t *testing.T) {
	t.Parallel()
	for _, family := range families() {
		t.Run(family, func(t *testing.T) {
			t.Parallel()
			l := listen(t, family, []byte("right"), nil)
			rej := collect(l)
			fam, addr := l.Addr()
			stop := serve(t, l)

			c, err := connection.Client(fam, addr, []byte("wrong"))
			assert.Nil(t, c)
			assert.ErrorIs(t, err, mp.ErrAuth)
			assert.Contains(t, err.Error(), "another key")
			err = <-rej.c
			assert.ErrorIs(t, err, mp.ErrAuth)
			assert.Contains(t, err.Error(), "another key")

			// The listener goes on: a client with the key is served.
			c, err = connection.Client(fam, addr, []byte("right"))
			require.NoError(t, err)
			require.NoError(t, c.SendBytes([]byte("hi")))
			b, err := c.RecvBytes()
			require.NoError(t, err)
			assert.Equal(t, "hi", string(b))
			require.NoError(t, c.Close())

			stop()
		})
	}
}

// TestListenerGarbage: an unauthenticated peer that sends garbage, or
// announces a huge frame, gets nothing decoded and no hang; the Listener
// reports it and goes on.
func TestListenerGarbage(t *testing.T) {
	t.Parallel()
	l := listen(t, connection.FamilyTCP, nil, nil)
	rej := collect(l)
	fam, addr := l.Addr()
	stop := serve(t, l)
	for _, garbage := range [][]byte{
		{0xff, 0xff, 0xff, 0xff, 1, 2, 3},           // a 4 GiB frame
		{0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'},       // not a digest
		{0, 0, 0, 9, 'h'},                           // truncated
		[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), // another protocol
	} {
		nc, err := net.Dial(fam, addr)
		require.NoError(t, err)
		_, err = nc.Write(garbage)
		require.NoError(t, err)
		_ = nc.(*net.TCPConn).CloseWrite()
		err = <-rej.c
		assert.ErrorIs(t, err, mp.ErrAuth, "garbage %q", garbage)
		assert.Contains(t, err.Error(), "peer "+nc.LocalAddr().String())
		nc.Close()
	}
	c, err := connection.Client(fam, addr, nil)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	stop()
}

func TestListenerMisuse(t *testing.T) {
	t.Parallel()
	_, err := connection.Listen("udp", "", nil)
	assert.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "mp: "), err.Error())
	l := listen(t, connection.FamilyTCP, nil, nil)
	require.NoError(t, l.Close())
	require.NoError(t, l.Close(), "a second Close")
	_, err = l.Accept()
	assert.ErrorIs(t, err, mp.ErrConnClosed)
}

// TestListenerHandshakeTimeout: a peer that says nothing is dropped after
// HandshakeTimeout, and told so by end of file.
func TestListenerHandshakeTimeout(t *testing.T) {
	t.Parallel()
	l := listen(t, connection.FamilyTCP, nil, func(l *connection.Listener) { l.HandshakeTimeout = 100 * time.Millisecond })
	rej := collect(l)
	fam, addr := l.Addr()
	stop := serve(t, l)
	t0 := time.Now() // the handshake's clock starts after this
	nc, err := net.Dial(fam, addr)
	require.NoError(t, err)
	defer nc.Close()
	err = <-rej.c
	assert.ErrorIs(t, err, mp.ErrAuth)
	assert.Contains(t, err.Error(), "took too long")
	assert.GreaterOrEqual(t, time.Since(t0), 100*time.Millisecond)
	_, err = io.ReadAll(nc) // the challenge, then end of file
	assert.NoError(t, err)
	stop()
}

// TestListenerSlowPeers: with 200 peers that connect and say nothing and 3
// that send a byte a second, a client with the key is still served within
// a second, every time.
func TestListenerSlowPeers(t *testing.T) {
	t.Parallel()
	for _, family := range families() {
		t.Run(family, func(t *testing.T) {
			t.Parallel()
			l := listen(t, family, nil, nil)
			rej := collect(l)
			fam, addr := l.Addr()
			stop := serve(t, l)

			quit := make(chan struct{})
			var slow sync.WaitGroup
			for range 3 {
				nc, err := net.Dial(fam, addr)
				require.NoError(t, err)
				slow.Go(func() {
					defer nc.Close()
					tick := time.NewTicker(time.Second)
					defer tick.Stop()
					frame := []byte{0, 0, 0, 32}
					for i := 0; ; i++ {
						if _, err := nc.Write([]byte{frame[i%len(frame)]}); err != nil {
							return
						}
						select {
						case <-tick.C:
						case <-quit:
							return
						}
					}
				})
			}
			defer func() { close(quit); slow.Wait() }()
			for range 200 {
				nc, err := net.Dial(fam, addr)
				require.NoError(t, err)
				defer nc.Close()
			}

			for i := range 5 {
				t0 := time.Now()
				c, err := connection.Client(fam, addr, nil)
				require.NoError(t, err, "client %d", i)
				msg := fmt.Appendf(nil, "client %d", i)
				require.NoError(t, c.SendBytes(msg))
				b, err := c.RecvBytes()
				require.NoError(t, err)
				assert.Equal(t, msg, b)
				require.NoError(t, c.Close())
				took := time.Since(t0)
				t.Logf("client %d served in %v", i, took)
				assert.Less(t, took, time.Second, "client %d was kept waiting", i)
			}

			for _, err := range rej.all() {
				assert.NotContains(t, err.Error(), "dropped", "a peer was dropped though MaxHandshakes was not reached")
			}
			stop()
		})
	}
}

// TestListenerDrop: when MaxHandshakes peers that say nothing hold every
// place, a new connection takes the place of the oldest once it has been
// silent for a second; the client with the key gets through.
func TestListenerDrop(t *testing.T) {
	t.Parallel()
	const max, silent = 4, 10
	l := listen(t, connection.FamilyTCP, nil, func(l *connection.Listener) { l.MaxHandshakes = max })
	rej := collect(l)
	fam, addr := l.Addr()
	stop := serve(t, l)
	var peers []net.Conn
	for range silent {
		nc, err := net.Dial(fam, addr)
		require.NoError(t, err)
		defer nc.Close()
		peers = append(peers, nc)
	}
	t0 := time.Now()
	c, err := connection.Client(fam, addr, nil)
	require.NoError(t, err)
	require.NoError(t, c.SendBytes([]byte("hi")))
	b, err := c.RecvBytes()
	require.NoError(t, err)
	assert.Equal(t, "hi", string(b))
	require.NoError(t, c.Close())
	took := time.Since(t0)
	t.Logf("served after %v", took)
	// Three rounds of a second (4 places; 10 silent peers and the client).
	assert.Less(t, took, 20*time.Second)

	// A dropped peer sees the challenge and end of file.
	_, err = io.ReadAll(peers[0])
	assert.NoError(t, err)
	stop() // waits for Rejected
	errs := rej.all()
	assert.GreaterOrEqual(t, len(errs), silent+1-max, "silent peers dropped")
	for _, err := range errs {
		assert.ErrorIs(t, err, mp.ErrAuth)
		assert.Contains(t, err.Error(), "dropped for a newer connection")
	}
}

// TestListenerBurst: a burst of clients with the key, five times
// MaxHandshakes, all get through.
func TestListenerBurst(t *testing.T) {
	t.Parallel()
	const max, clients = 4, 20
	l := listen(t, connection.FamilyTCP, nil, func(l *connection.Listener) { l.MaxHandshakes = max })
	rej := collect(l)
	fam, addr := l.Addr()
	stop := serve(t, l)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			c, err := connection.Client(fam, addr, nil)
			if !assert.NoError(t, err, "client %d", i) {
				return
			}
			defer c.Close()
			msg := fmt.Appendf(nil, "client %d", i)
			assert.NoError(t, c.SendBytes(msg))
			b, err := c.RecvBytes()
			assert.NoError(t, err)
			assert.Equal(t, msg, b)
		})
	}
	wg.Wait()
	assert.Empty(t, rej.all())
	stop()
}

// TestListenerBackpressure: with no Accept, at most MaxHandshakes
// authenticated connections wait (plus the handshakes under way when they
// filled the queue); the other clients wait in the backlog, and none is
// lost once Accept takes them.
func TestListenerBackpressure(t *testing.T) {
	t.Parallel()
	const max, clients = 2, 8
	l := listen(t, connection.FamilyTCP, nil, func(l *connection.Listener) { l.MaxHandshakes = max })
	fam, addr := l.Addr()

	type result struct {
		c   *mp.Conn
		err error
	}
	connected := make(chan result, clients)
	dial := func() {
		c, err := connection.Client(fam, addr, nil)
		connected <- result{c, err}
	}
	// The first Accept starts the Listener.
	go dial()
	first, err := l.Accept()
	require.NoError(t, err)
	defer first.Close()
	var got []*mp.Conn
	take := func(r result) {
		require.NoError(t, r.err)
		got = append(got, r.c)
	}
	take(<-connected)
	// The others, one at a time, each given 300 ms to get through.
	for range clients - 1 {
		go dial()
		select {
		case r := <-connected:
			take(r)
		case <-time.After(300 * time.Millisecond):
		}
	}
	assert.LessOrEqual(t, len(got), 1+2*max, "connections authenticated with no Accept")
	assert.Less(t, len(got), clients, "no backpressure")
	for range clients - 1 {
		c, err := l.Accept()
		require.NoError(t, err)
		require.NoError(t, c.Close())
	}
	for len(got) < clients {
		take(<-connected)
	}
	for _, c := range got {
		require.NoError(t, c.Close())
	}
}

// TestListenerClose: Close ends the handshakes under way and closes the
// connections no Accept took; their peers see end of file.
func TestListenerClose(t *testing.T) {
	t.Parallel()
	l := listen(t, connection.FamilyTCP, nil, nil)
	fam, addr := l.Addr()
	accepted := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Close()
		}
		accepted <- err
	}()
	first, err := connection.Client(fam, addr, nil)
	require.NoError(t, err)
	defer first.Close()
	require.NoError(t, <-accepted)
	var clients []*mp.Conn
	for range 3 { // authenticated, never accepted
		c, err := connection.Client(fam, addr, nil)
		require.NoError(t, err)
		defer c.Close()
		clients = append(clients, c)
	}
	silent, err := net.Dial(fam, addr)
	require.NoError(t, err)
	defer silent.Close()
	t0 := time.Now()
	require.NoError(t, l.Close())
	assert.Less(t, time.Since(t0), 5*time.Second, "Close waited for a handshake")
	for _, c := range clients {
		// End of file, or a reset if the Listener had not read the
		// client's last handshake message yet.
		ok, err := c.Poll(10 * time.Second)
		require.NoError(t, err)
		require.True(t, ok, "the connection was left open")
		_, err = c.RecvBytes()
		assert.Error(t, err)
	}
	require.NoError(t, silent.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err = io.ReadAll(silent)
	assert.NotErrorIs(t, err, os.ErrDeadlineExceeded, "the handshake was left open")
}

// socketPair returns the two ends of an authenticated connection.
func socketPair(t *testing.T, family string) (accepted, client *mp.Conn) {
	t.Helper()
	l := listen(t, family, nil, nil)
	fam, addr := l.Addr()
	type res struct {
		c   *mp.Conn
		err error
	}
	acc := make(chan res, 1)
	go func() {
		c, err := l.Accept()
		acc <- res{c, err}
	}()
	client, err := connection.Client(fam, addr, nil)
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	r := <-acc
	require.NoError(t, r.err)
	t.Cleanup(func() { r.c.Close() })
	return r.c, client
}

// TestSocketPoll: Poll of a socket, from several goroutines, never breaks
// a receive of large messages in progress, and never waits behind one.
func TestSocketPoll(t *testing.T) {
	t.Parallel()
	for _, family := range families() {
		t.Run(family, func(t *testing.T) {
			t.Parallel()
			a, b := socketPair(t, family)
			conntest.PollWhileRecvBlocked(t, a, b)
			conntest.PollDuringRecv(t, a, b, 40)
		})
	}
}
