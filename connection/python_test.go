package connection_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/connection"
	"github.com/go-mp/mp/internal/wire"
)

// The interop tests run real Python programs (testdata/peer.py) against
// this package, both ways: a Python Client to a Go Listener, and a Go
// Client (Dialer) to a Python Listener, over Unix sockets and TCP, with
// every Python 3 found (python3 on PATH; pyenv's versions; the paths in
// MP_TEST_PYTHONS, separated by the OS's list separator). CI installs
// python3 if it is absent (.ci/run); elsewhere a machine without it skips
// them, saying so.

// python is an interpreter and its version.
type python struct {
	path         string
	major, minor int
}

func (p python) String() string { return fmt.Sprintf("python%d.%d", p.major, p.minor) }

// legacy reports whether p speaks only the HMAC-MD5 handshake.
func (p python) legacy() bool { return p.major == 3 && p.minor < 12 }

// pythons returns the Python 3 interpreters, 3.8 and later, one per
// version, oldest first.
func pythons(t *testing.T) []python {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the Windows build runs under Wine, where no Windows Python is installed: the interop tests run natively")
	}
	candidates := []string{"python3"}
	if home, err := os.UserHomeDir(); err == nil {
		root := os.Getenv("PYENV_ROOT")
		if root == "" {
			root = filepath.Join(home, ".pyenv")
		}
		found, _ := filepath.Glob(filepath.Join(root, "versions", "3.*", "bin", "python3"))
		candidates = append(candidates, found...)
	}
	candidates = append(candidates, filepath.SplitList(os.Getenv("MP_TEST_PYTHONS"))...)
	seen := map[[2]int]bool{}
	var out []python
	for _, c := range candidates {
		path, err := exec.LookPath(c)
		if err != nil {
			continue
		}
		b, err := exec.Command(path, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])").Output()
		if err != nil {
			continue
		}
		var p python
		if _, err := fmt.Sscan(string(b), &p.major, &p.minor); err != nil || p.major != 3 || p.minor < 8 {
			continue
		}
		p.path = path
		if !seen[[2]int{p.major, p.minor}] {
			seen[[2]int{p.major, p.minor}] = true
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].minor < out[j].minor })
	if len(out) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("no python3 (3.8 or later) found: .ci/run installs it")
		}
		t.Skip("no python3 (3.8 or later) on this machine: install it to run the interop tests")
	}
	return out
}

// pyFamilies are the families to test, as Go and Python name them.
func pyFamilies() [][2]string {
	return [][2]string{{connection.FamilyUnix, "AF_UNIX"}, {connection.FamilyTCP, "AF_INET"}}
}

// sizes are the message sizes sent each way: empty, small, around the
// 16 KiB where Python stops joining header and payload, and above a
// socket's buffer.
var sizes = []int{0, 1, 255, 16384, 16385, 65536, 1 << 20, 3<<20 + 7}

// peer is a running Python program and what it prints.
type peer struct {
	cmd   *exec.Cmd
	lines *bufio.Scanner
	errb  *bytes.Buffer
}

// runPeer starts testdata/peer.py with args under py.
func runPeer(t *testing.T, py python, args ...string) *peer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, py.path, append([]string{filepath.Join("testdata", "peer.py")}, args...)...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return &peer{cmd: cmd, lines: bufio.NewScanner(out), errb: &errb}
}

// next decodes the next line the peer prints.
func (p *peer) next(t *testing.T) map[string]any {
	t.Helper()
	require.True(t, p.lines.Scan(), "the Python peer printed nothing more; its stderr: %s", p.errb)
	var m map[string]any
	require.NoError(t, json.Unmarshal(p.lines.Bytes(), &m), p.lines.Text())
	return m
}

// wait waits for the peer to exit and returns its exit code.
func (p *peer) wait(t *testing.T) int {
	t.Helper()
	err := p.cmd.Wait()
	if err != nil && p.cmd.ProcessState == nil {
		t.Fatal(err)
	}
	return p.cmd.ProcessState.ExitCode()
}

func newKey(t *testing.T) []byte {
	k := make([]byte, 32)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return k
}

func reversed(b []byte) []byte {
	r := bytes.Clone(b)
	slices.Reverse(r)
	return r
}

// TestPythonClient: Python's Client authenticates to a Go Listener with
// the same key, and they exchange bytes of every size both ways; the
// Listener's LastAccepted is the Python side's address.
func TestPythonClient(t *testing.T) {
	t.Parallel()
	for _, py := range pythons(t) {
		for _, fam := range pyFamilies() {
			t.Run(py.String()+"/"+fam[0], func(t *testing.T) {
				t.Parallel()
				key := newKey(t)
				l := listen(t, fam[0], key, func(l *connection.Listener) { l.LegacyMD5 = py.legacy() })
				rej := collect(l)
				_, addr := l.Addr()
				args := []string{"client", fam[1], addr, hex.EncodeToString(key)}
				for _, n := range sizes {
					args = append(args, strconv.Itoa(n))
				}
				p := runPeer(t, py, args...)
				c := acceptWithin(t, l, rej, p)
				defer c.Close()
				require.NoError(t, c.SendBytes([]byte("hello from Go")))
				m := p.next(t)
				if fam[0] == connection.FamilyTCP {
					sockname := m["sockname"].([]any)
					assert.Equal(t, net.JoinHostPort(sockname[0].(string), fmt.Sprint(sockname[1])), l.LastAccepted().String())
				}
				for range sizes {
					b, err := c.RecvBytes()
					require.NoError(t, err)
					require.NoError(t, c.SendBytes(reversed(b)))
				}
				assert.Equal(t, float64(len(sizes)), p.next(t)["ok"])
				assert.Zero(t, p.wait(t), p.errb.String())
			})
		}
	}
}

// TestPythonListener: a Go Client (Dialer) authenticates to Python's
// Listener with the same key, and they exchange bytes of every size both
// ways.
func TestPythonListener(t *testing.T) {
	t.Parallel()
	for _, py := range pythons(t) {
		for _, fam := range pyFamilies() {
			t.Run(py.String()+"/"+fam[0], func(t *testing.T) {
				t.Parallel()
				key := newKey(t)
				p := runPeer(t, py, "listen", fam[1], hex.EncodeToString(key))
				addr := pyAddress(t, p.next(t)["address"])
				d := &connection.Dialer{AuthKey: key, LegacyMD5: py.legacy()}
				c, err := d.Dial(fam[0], addr)
				require.NoError(t, err, "python: %s", p.errb)
				defer c.Close()
				b, err := c.RecvBytes()
				require.NoError(t, err)
				assert.Equal(t, "hello from Python", string(b))
				for _, n := range sizes {
					msg := make([]byte, n)
					_, _ = rand.Read(msg)
					require.NoError(t, c.SendBytes(msg))
					back, err := c.RecvBytes()
					require.NoError(t, err)
					require.Equal(t, reversed(msg), back, "size %d", n)
				}
				require.NoError(t, c.Close())
				m := p.next(t)
				assert.Equal(t, float64(len(sizes)), m["ok"])
				assert.Zero(t, p.wait(t), p.errb.String())
			})
		}
	}
}

// acceptWithin returns the next connection l accepts, failing t if none
// comes within 20 seconds.
func acceptWithin(t *testing.T, l *connection.Listener, rej *rejections, p *peer) *mp.Conn {
	t.Helper()
	got := make(chan *mp.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(got) // the listener was closed at the end of the test
			return
		}
		got <- c
	}()
	select {
	case c := <-got:
		return c
	case <-time.After(20 * time.Second):
		t.Fatalf("no connection accepted in 20 s; rejected: %v; python: %s", rej.all(), p.errb)
		return nil
	}
}

// rejection returns the next rejection rej collects, failing t if none
// comes within 20 seconds.
func rejection(t *testing.T, rej *rejections) error {
	t.Helper()
	select {
	case err := <-rej.c:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("no rejection in 20 s")
		return nil
	}
}

// pyAddress turns the address a Python Listener printed into Go's form.
func pyAddress(t *testing.T, a any) string {
	t.Helper()
	switch a := a.(type) {
	case string:
		return a
	case []any:
		return net.JoinHostPort(a[0].(string), fmt.Sprint(a[1]))
	}
	t.Fatalf("address %v", a)
	return ""
}

// TestPythonWrongKey: with different keys, both sides fail, each saying
// why, both ways round.
func TestPythonWrongKey(t *testing.T) {
	t.Parallel()
	for _, py := range pythons(t) {
		t.Run(py.String(), func(t *testing.T) {
			t.Parallel()
			l := listen(t, connection.FamilyTCP, newKey(t), func(l *connection.Listener) { l.LegacyMD5 = true })
			rej := collect(l)
			defer serve(t, l)()
			_, addr := l.Addr()
			p := runPeer(t, py, "client", "AF_INET", addr, hex.EncodeToString(newKey(t)))
			assert.Contains(t, p.next(t)["auth"], "digest sent was rejected")
			assert.Equal(t, 3, p.wait(t))
			err := rejection(t, rej)
			assert.ErrorIs(t, err, mp.ErrAuth)
			assert.Contains(t, err.Error(), "does not match: it has another key")

			p = runPeer(t, py, "listen", "AF_INET", hex.EncodeToString(newKey(t)))
			addr = pyAddress(t, p.next(t)["address"])
			_, err = (&connection.Dialer{AuthKey: newKey(t), LegacyMD5: true}).Dial(connection.FamilyTCP, addr)
			assert.ErrorIs(t, err, mp.ErrAuth)
			assert.Contains(t, err.Error(), "refused our")
			assert.Contains(t, p.next(t)["auth"], "digest received was wrong")
			assert.Equal(t, 3, p.wait(t))
		})
	}
}

// TestPythonLegacy: Python 3.11 and older know only HMAC-MD5, which a
// Listener or Dialer refuses unless LegacyMD5 is set, saying so; newer
// Pythons need no such thing.
func TestPythonLegacy(t *testing.T) {
	t.Parallel()
	for _, py := range pythons(t) {
		if !py.legacy() {
			continue // TestPythonClient and TestPythonListener run them without LegacyMD5
		}
		t.Run(py.String(), func(t *testing.T) {
			t.Parallel()
			key := newKey(t)
			l := listen(t, connection.FamilyTCP, key, nil)
			rej := collect(l)
			defer serve(t, l)()
			_, addr := l.Addr()
			p := runPeer(t, py, "client", "AF_INET", addr, hex.EncodeToString(key))
			err := rejection(t, rej)
			assert.ErrorIs(t, err, mp.ErrAuth)
			assert.Contains(t, err.Error(), "the peer answered with HMAC-MD5, the only digest of Python 3.11 and older; set LegacyMD5")
			assert.Equal(t, 3, p.wait(t))

			p = runPeer(t, py, "listen", "AF_INET", hex.EncodeToString(key))
			addr = pyAddress(t, p.next(t)["address"])
			_, err = (&connection.Dialer{AuthKey: key}).Dial(connection.FamilyTCP, addr)
			assert.ErrorIs(t, err, mp.ErrAuth)
			assert.Contains(t, err.Error(), "the peer is of Python 3.11 or older: its challenge asks for HMAC-MD5")
			require.NoError(t, p.cmd.Process.Kill())
			p.wait(t)
		})
	}
}

// TestPythonFraming checks the frame headers of messages over 2 GiB, which
// the interop tests cannot send, against Python's own code: its
// Connection._send_bytes writes, for a message of each length, the header
// wire.AppendHeader writes, and its _recv_bytes reads ours.
func TestPythonFraming(t *testing.T) {
	t.Parallel()
	const script = `
import sys
from multiprocessing.connection import Connection
class Big:
    def __init__(self, n): self.n = n
    def __len__(self): return self.n
    def __radd__(self, header): return header  # header + payload: the header alone
for n in map(int, sys.argv[1:]):
    c = Connection.__new__(Connection)
    out = []
    c._send = lambda b: out.append(b"" if isinstance(b, Big) else bytes(b))
    c._send_bytes(Big(n))
    header = b"".join(out)
    c = Connection.__new__(Connection)
    data = [bytes.fromhex(sys.stdin.readline().strip())]
    got = []
    def recv(size):
        import io
        if size <= 12 and data[0]:
            b, data[0] = data[0][:size], data[0][size:]
            return io.BytesIO(b)
        got.append(size)
        return io.BytesIO(b"")
    c._recv = recv
    c._recv_bytes()
    print(header.hex(), got[0])
`
	for _, py := range pythons(t) {
		t.Run(py.String(), func(t *testing.T) {
			t.Parallel()
			ns := []int{0, 16385, wire.MaxShort, wire.MaxShort + 1, 1<<32 - 1, 1 << 33}
			var in strings.Builder
			args := []string{"-c", script}
			for _, n := range ns {
				args = append(args, strconv.Itoa(n))
				fmt.Fprintln(&in, hex.EncodeToString(wire.AppendHeader(nil, n)))
			}
			cmd := exec.Command(py.path, args...)
			cmd.Stdin = strings.NewReader(in.String())
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, string(out))
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			require.Len(t, lines, len(ns))
			for i, n := range ns {
				want := fmt.Sprintf("%s %d", hex.EncodeToString(wire.AppendHeader(nil, n)), n)
				assert.Equal(t, want, lines[i], "a message of %d bytes", n)
			}
		})
	}
}
