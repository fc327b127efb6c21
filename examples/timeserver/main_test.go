package main

import (
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, main) }

var best = regexp.MustCompile(`client: best of (\d+) \(smallest delay\): delay=(\S+) offset=(\S+)`)

// slack allows for the wall clock being adjusted during an exchange, and
// for a coarse clock.
const slack = 2 * time.Millisecond

func TestOffset(t *testing.T) {
	for _, tt := range []struct {
		name string
		skew time.Duration
	}{
		{"one clock", 0},
		{"server ahead", 1500 * time.Millisecond},
		{"server behind", -250 * time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			exampletest.NeedUDP(t)
			out := exampletest.MustRun(t, "-addr", "127.0.0.1:0", "-samples", "4", "-skew", tt.skew.String()).Stdout
			assert.Regexp(t, `time server: listening on 127\.0\.0\.1:\d+, clock skew [+-]`, out)
			assert.Len(t, regexp.MustCompile(`client: sample \d: t0=\S+ t1=\S+ t2=\S+ t3=\S+ delay=\S+ offset=\S+`).FindAllString(out, -1), 4)
			m := best.FindStringSubmatch(out)
			require.NotNil(t, m, "best sample line")
			assert.Equal(t, "4", m[1])
			delay, err := time.ParseDuration(m[2])
			require.NoError(t, err)
			offset, err := time.ParseDuration(m[3])
			require.NoError(t, err)

			// Both processes read one clock, so the measured offset is
			// the skew, to within half the round trip (NTP's error bound).
			assert.GreaterOrEqual(t, delay, time.Duration(0))
			assert.InDelta(t, float64(tt.skew), float64(offset), float64(delay/2+slack),
				"offset %v, delay %v, skew %v", offset, delay, tt.skew)
			assert.Contains(t, out, "time-server stopped (exit code -15: terminated)")
		})
	}
}
