package main

import (
	"net"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, main) }

func TestHello(t *testing.T) {
	t.Parallel()
	exampletest.NeedUDP(t)
	out := exampletest.MustRun(t, "-addr", "127.0.0.1:0").Stdout

	listening := regexp.MustCompile(`\[pid (\d+)\] server: listening on (127\.0\.0\.1:\d+)`).FindStringSubmatch(out)
	require.NotNil(t, listening, "server line")
	server, addr := listening[1], listening[2]
	assert.Regexp(t, `\[pid \d+\] client: sending "hello" to `+regexp.QuoteMeta(addr), out)
	assert.Regexp(t, `\[pid `+server+`\] server: got "hello" from 127\.0\.0\.1:\d+, answering "hi"`, out)
	client := regexp.MustCompile(`\[pid (\d+)\] client: got "hi" from server ` + regexp.QuoteMeta(addr)).FindStringSubmatch(out)
	require.NotNil(t, client, "client line")
	assert.NotEqual(t, server, client[1], "the server runs in a child process")
	assert.Contains(t, out, "udp-server stopped (exit code -15: terminated)")
	assert.NotContains(t, out, "no answer")
}

// TestLostDatagram: the server drops the first datagram; the client's
// second try gets the answer.
func TestLostDatagram(t *testing.T) {
	t.Parallel()
	exampletest.NeedUDP(t)
	out := exampletest.MustRun(t, "-addr", "127.0.0.1:0", "-drop", "1", "-timeout", "1s", "-tries", "5").Stdout
	assert.Regexp(t, `server: dropping datagram 1, "hello" from 127\.0\.0\.1:\d+`, out)
	assert.Contains(t, out, "client: no answer within 1s (try 1 of 5)")
	assert.Regexp(t, `client: got "hi" from server 127\.0\.0\.1:\d+`, out)
}

// TestNoAnswer: a socket that never answers; the client gives up after
// its tries, says so, and exits with code 1.
func TestNoAnswer(t *testing.T) {
	t.Parallel()
	exampletest.NeedUDP(t)
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { silent.Close() })
	addr := silent.LocalAddr().String()

	r := exampletest.Run(t, "-no-server", "-addr", addr, "-timeout", "200ms", "-tries", "2")
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stdout, "client: no answer within 200ms (try 1 of 2)")
	assert.Contains(t, r.Stdout, "client: no answer within 200ms (try 2 of 2)")
	assert.Contains(t, r.Stdout, "client: no answer from "+addr+" after 2 tries of 200ms each: giving up")
	assert.Contains(t, r.Stderr, "udp: no answer from "+addr)
	assert.GreaterOrEqual(t, r.Elapsed, 400*time.Millisecond, "two tries of 200ms")
}

// TestPortInUse: a server that cannot bind its address makes the program
// fail with the child's error.
func TestPortInUse(t *testing.T) {
	t.Parallel()
	exampletest.NeedUDP(t)
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { busy.Close() })

	r := exampletest.Run(t, "-addr", busy.LocalAddr().String())
	assert.Equal(t, 1, r.Code)
	assert.Regexp(t, `udp: udp-server exited before it was ready: mp: udp-server \(pid \d+\) exited with code 1: listen udp 127\.0\.0\.1:\d+: bind: `, r.Stderr)
}
