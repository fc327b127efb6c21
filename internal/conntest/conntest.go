// Package conntest holds checks that the tests of mp and mp/connection run
// on Conns of every kind: pipes and sockets.
package conntest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
)

// SoakEnv, set to a duration (MP_SOAK=10m), makes the abuse tests that
// use Soak play rounds until that much time has passed.
const SoakEnv = "MP_SOAK"

// Soak plays round n times, or with MP_SOAK set, until that much time has
// passed; it stops at the first failure.
func Soak(t *testing.T, n int, round func(uint64)) {
	t.Helper()
	until := time.Time{}
	if s := os.Getenv(SoakEnv); s != "" {
		d, err := time.ParseDuration(s)
		require.NoError(t, err, "%s", SoakEnv)
		n, until = 1<<30, time.Now().Add(d)
	}
	for i := range n {
		if t.Failed() || (!until.IsZero() && time.Now().After(until)) {
			return
		}
		round(uint64(i))
	}
}

// Message returns message i of a run: size bytes that depend on i and on
// their position, so that a message cut, shifted or swapped with another
// does not pass for it.
func Message(i, size int) []byte {
	b := make([]byte, size)
	for j := range b {
		b[j] = byte(i*131 + j*7 + j>>8)
	}
	return b
}

// PollDuringRecv sends n messages of random sizes (0 bytes to 1 MiB: many
// above a pipe's and a socket's buffer, so that they arrive in parts) from
// send to recv, received by one goroutine while others call recv.Poll with
// short timeouts all along. Every message must arrive whole and in order,
// and no Poll may fail: a Poll never disturbs a receive in progress. Every
// Poll must also return within its timeout plus a generous 10 s (the
// pollers keep both cores busy, and the race detector slows them tenfold):
// it never hangs behind the receive.
func PollDuringRecv(t *testing.T, recv, send *mp.Conn, n int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(n), uint64(time.Now().UnixNano())))
	sizes := make([]int, n)
	for i := range sizes {
		switch i % 4 {
		case 0:
			sizes[i] = rng.IntN(1 << 20)
		case 1:
			sizes[i] = rng.IntN(256)
		case 2:
			sizes[i] = 64<<10 + rng.IntN(64<<10)
		}
	}
	sent := make(chan error, 1)
	go func() {
		for i, size := range sizes {
			if err := send.SendBytes(Message(i, size)); err != nil {
				sent <- fmt.Errorf("message %d: %w", i, err)
				return
			}
		}
		sent <- nil
	}()

	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var pollErrs []error
	polls := 0
	for g := range 3 {
		wg.Go(func() {
			timeouts := []time.Duration{0, 100 * time.Microsecond, time.Millisecond}
			for k := 0; ; k++ {
				select {
				case <-done:
					return
				default:
				}
				d := timeouts[(g+k)%len(timeouts)]
				t0 := time.Now()
				_, err := recv.Poll(d)
				took := time.Since(t0)
				mu.Lock()
				polls++
				if err != nil {
					pollErrs = append(pollErrs, err)
				} else if took > d+10*time.Second {
					pollErrs = append(pollErrs, fmt.Errorf("Poll(%v) took %v", d, took))
				}
				mu.Unlock()
			}
		})
	}
	defer func() {
		close(done)
		wg.Wait()
		assert.Empty(t, pollErrs, "Poll errors")
		assert.Positive(t, polls)
	}()

	for i, size := range sizes {
		got, err := recv.RecvBytes()
		require.NoError(t, err, "message %d of %d bytes", i, size)
		require.Equal(t, size, len(got), "message %d", i)
		require.Equal(t, Message(i, size), got, "message %d", i)
	}
	require.NoError(t, <-sent)
}

// PollWhileRecvBlocked checks that a Poll returns by its timeout while a
// receive waits for a message that has not come, and that the receive
// then gets the message whole: Poll neither waits behind a receive nor
// ends it.
func PollWhileRecvBlocked(t *testing.T, recv, send *mp.Conn) {
	t.Helper()
	type result struct {
		b   []byte
		err error
	}
	got := make(chan result, 1)
	go func() {
		b, err := recv.RecvBytes()
		got <- result{b, err}
	}()
	for _, d := range []time.Duration{0, time.Millisecond, 50 * time.Millisecond} {
		polled := make(chan result, 1)
		t0 := time.Now()
		go func() {
			ok, err := recv.Poll(d)
			polled <- result{[]byte(fmt.Sprint(ok)), err}
		}()
		select {
		case r := <-polled:
			require.NoError(t, r.err)
			assert.Equal(t, "false", string(r.b), "nothing was sent")
			assert.GreaterOrEqual(t, time.Since(t0), d, "Poll(%v) returned early", d)
		case <-time.After(d + 10*time.Second):
			t.Fatalf("Poll(%v) waited behind the receive", d)
		}
	}
	select {
	case r := <-got:
		t.Fatalf("the receive ended during the polls: %q, %v", r.b, r.err)
	default:
	}
	msg := Message(7, 200<<10)
	require.NoError(t, send.SendBytes(msg))
	r := <-got
	require.NoError(t, r.err)
	assert.Equal(t, msg, r.b)
}
