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

func TestJoin(t *testing.T) {
	t.Parallel()
	const unit = 300 * time.Millisecond
	out := exampletest.MustRun(t, "-unit", unit.String()).Stdout

	duration := func(re string) time.Duration {
		t.Helper()
		m := regexp.MustCompile(re + `: (\S+) `).FindStringSubmatch(out)
		require.NotNil(t, m, re)
		d, err := time.ParseDuration(m[1])
		require.NoError(t, err)
		return d
	}
	together := duration(`started together, then joined`)
	oneByOne := duration(`started and joined one by one`)

	// Sleeps are lower bounds. That the children overlap shows as taking
	// less time together than one by one: 3 units less, and less again for
	// starting them at once rather than in turn (starting a process can
	// take longer than a unit on a loaded machine, so no absolute upper
	// bound holds).
	assert.GreaterOrEqual(t, together, 3*unit, "the longest sleep")
	assert.GreaterOrEqual(t, oneByOne, 6*unit, "one by one, the sleeps add up")
	assert.Less(t, together, oneByOne, "started together, the sleeps overlap")

	assert.Len(t, regexp.MustCompile(`: sleeping (300|600|900)ms\n`).FindAllString(out, -1), 6)
	assert.Len(t, regexp.MustCompile(`: awake\n`).FindAllString(out, -1), 6)
}
