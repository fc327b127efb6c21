package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, main) }

// TestTour runs the tour and checks each step's headline and the line that
// shows its point, in the tutorial's order.
func TestTour(t *testing.T) {
	t.Parallel()
	// Without UDP (under Wine 8) the two UDP steps fail, and say so; the
	// tour goes on, and exits with code 1.
	noUDP := exampletest.UDPUnavailable()
	r := exampletest.Run(t)
	out := r.Stdout
	if noUDP != nil {
		t.Logf("UDP sockets are unusable here: %v", noUDP)
		assert.Equal(t, 1, r.Code)
		assert.Contains(t, r.Stderr, "tour: steps 1 (UDP: a server and a client), 2 (UDP: remote time synchronisation) failed")
	} else {
		require.Equal(t, 0, r.Code)
	}

	want := [][]string{
		{"UDP: a server and a client", `server: dropping datagram 1`, `client: got "hi" from server 127\.0\.0\.1:\d+`},
		{"UDP: remote time synchronisation", `client: best of 3 \(smallest delay\): delay=\S+ offset=\+1\.\d+s`},
		{"History and scheduling", `average waiting 5\.75, average turnaround 11\.25`, `average waiting 6\.25, average turnaround 11\.75`,
			`t=2 +A +running -> blocked`, `free to use every CPU \(parallel\):`},
		{"Creating processes", `test running`, `test is over`, `my-process is over`},
		{"join", `started together, then joined: \S+`, `started and joined one by one: \S+`},
		{"Isolation", `parent \(fork\) after join: money = 100`, `child \(fork\): savings = 500`, `child \(spawn\): savings = 100`},
		{"The main guard", `package tutorial: init\(\) ran`, `no guard: errors\.Is\(err, mp\.ErrMainGuard\) = true`},
		{"The process object", `default name: Process-\d+`, `after JoinTimeout: IsAlive\(\) = false, ExitCode\(\) = -15`},
		{"IPC: queues and pipes", `consumer: got 200 jobs from 2 producers, each producer's in order`,
			`the sum of their numbers is 10100`, `main: sent "ping 3", got "pong 3"`, `child: the parent closed the pipe`},
		{"Synchronisation: locks, events and barriers", `main: 4 workers x 100 increments under the lock: the counter is 400`,
			`main: every worker stopped`, `main: 4 workers did 3 rounds in lockstep`},
		{"Shared memory: Value, Array and SharedMemory", `main: num = 3\.1415927`, `main: arr = \[0 -1 -2 -3 -4 -5 -6 -7 -8 -9\]`,
			`main: 4 workers summed 1000000 shared numbers \(1000000 counted\): 500000500000, and n\(n\+1\)/2 = 500000500000`,
			`main: the child wrote "hello from pid \d+" into the block`},
		{"A pool of workers", `map: \[1 4 9\]`, `ErrNotReady=true`, `a worker killed mid-task: task error with exit code`,
			`word count over 5 texts`, `imap: 20 results, in order, under a progress bar`},
		{"Managers: shared objects", `main: d = \{1: '1', '2': 2, 0\.25: None\}`, `main: l = \[9 8 7 6 5 4 3 2 1 0\]`,
			`main: 4 workers x 100 Add\("hits", 1\) = 400 hits, none lost`, `main: got "hello" from the remote manager's queue`},
	}
	at := 0
	for i, step := range want {
		head := fmt.Sprintf("\n== Step %d of %d: %s ==\n", i+1, len(want), step[0])
		k := strings.Index(out[at:], head)
		require.GreaterOrEqual(t, k, 0, "headline %q, in order", head)
		at += k + len(head)
		end := len(out)
		if i+1 < len(want) {
			if n := strings.Index(out[at:], "\n== Step "); n >= 0 {
				end = at + n
			}
		}
		if noUDP != nil && i < 2 {
			assert.Contains(t, out[at:end], fmt.Sprintf("Step %d failed: ", i+1))
			continue
		}
		for _, re := range step[1:] {
			assert.Regexp(t, re, out[at:end], "step %d, %s", i+1, step[0])
		}
		assert.NotContains(t, out[at:end], fmt.Sprintf("Step %d failed: ", i+1))
	}
	m := regexp.MustCompile(fmt.Sprintf(`\nTour complete: %d steps in (\S+)\.\n$`, len(want))).FindStringSubmatch(out)
	require.NotNil(t, m, "closing line")
	assert.Less(t, r.Elapsed, 50*time.Second, "well under a minute, even on a loaded machine")
}
