package main

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/go-mp/mp/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, main) }

func TestSync(t *testing.T) {
	t.Parallel()
	out := exampletest.MustRun(t, "-workers", "4", "-increments", "150", "-rounds", "3").Stdout
	assert.Contains(t, out, "main: 4 workers x 150 increments under the lock: the counter is 600")
	assert.Contains(t, out, "main: all 4 workers are running; setting the stop event")
	assert.Len(t, regexp.MustCompile(`\] Process-\d+: stopped by the event after [1-9]\d* rounds\n`).FindAllString(out, -1), 4)
	assert.Contains(t, out, "main: every worker stopped")
	assert.Regexp(t, `(?s)round 1: all 4 workers passed the barrier.*round 2: all 4 workers.*round 3: all 4 workers`, out)
	assert.Contains(t, out, "main: 4 workers did 3 rounds in lockstep")
}
