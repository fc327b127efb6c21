package mp_test

import (
	"net"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
)

func init() { ipcTargets = append(ipcTargets, dial) }

// dial connects to a Listener with the key it inherited, sends a greeting
// and returns what comes back.
func dial(family, address string) error {
	c, err := mp.Client(family, address, nil)
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
		return []string{mp.FamilyTCP}
	}
	return []string{mp.FamilyUnix, mp.FamilyTCP}
}

func listen(t *testing.T, family string, key []byte) *mp.Listener {
	t.Helper()
	l, err := mp.Listen(family, "", key)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l
}

func TestListenerChild(t *testing.T) {
	t.Parallel()
	for _, family := range families() {
		t.Run(family, func(t *testing.T) {
			t.Parallel()
			l := listen(t, family, nil)
			fam, addr := l.Addr()
			p := start(t, mp.NewProcess(dial, fam, addr))
			c, err := l.Accept()
			require.NoError(t, err)
			defer c.Close()
			var it item
			require.NoError(t, c.Recv(&it))
			assert.Equal(t, item{1, "from " + p.Name}, it)
			require.NoError(t, c.Send(it))
			require.NoError(t, p.Join())
			ok, err := c.Poll(0)
			require.NoError(t, err)
			assert.True(t, ok, "end of file is readable")
			_, err = c.RecvBytes()
			assert.Error(t, err)
			assert.ErrorIs(t, c.Send(c), mp.ErrNotPassable)
		})
	}
}

func TestListenerWrongKey(t *testing.T) {
	t.Parallel()
	for _, family := range families() {
		t.Run(family, func(t *testing.T) {
			t.Parallel()
			l := listen(t, family, []byte("right"))
			fam, addr := l.Addr()
			accepted := make(chan error, 1)
			go func() {
				c, err := l.Accept()
				if c != nil {
					c.Close()
				}
				accepted <- err
			}()
			c, err := mp.Client(fam, addr, []byte("wrong"))
			assert.Nil(t, c)
			assert.ErrorIs(t, err, mp.ErrAuth)
			assert.Contains(t, err.Error(), "another key")
			err = <-accepted
			assert.ErrorIs(t, err, mp.ErrAuth)
			assert.Contains(t, err.Error(), "another key")
		})
	}
}

// TestListenerGarbage: an unauthenticated peer that sends garbage, or
// announces a huge frame, gets nothing decoded and no hang.
func TestListenerGarbage(t *testing.T) {
	t.Parallel()
	for _, garbage := range [][]byte{
		{0xff, 0xff, 0xff, 0xff, 1, 2, 3},           // a 4 GiB frame
		{0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'},       // not a digest
		{0, 0, 0, 9, 'h'},                           // truncated
		[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), // another protocol
	} {
		l := listen(t, mp.FamilyTCP, nil)
		fam, addr := l.Addr()
		accepted := make(chan error, 1)
		go func() {
			c, err := l.Accept()
			if c != nil {
				c.Close()
			}
			accepted <- err
		}()
		nc, err := net.Dial(fam, addr)
		require.NoError(t, err)
		_, err = nc.Write(garbage)
		require.NoError(t, err)
		if tcp, ok := nc.(*net.TCPConn); ok {
			_ = tcp.CloseWrite()
		}
		assert.ErrorIs(t, <-accepted, mp.ErrAuth, "garbage %q", garbage)
		nc.Close()
	}
}

func TestListenerMisuse(t *testing.T) {
	t.Parallel()
	_, err := mp.Listen("udp", "", nil)
	assert.Error(t, err)
	l := listen(t, mp.FamilyTCP, nil)
	require.NoError(t, l.Close())
	_, err = l.Accept()
	assert.ErrorIs(t, err, mp.ErrConnClosed)
}
