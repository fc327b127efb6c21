package main

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, main) }

func TestShared(t *testing.T) {
	t.Parallel()
	r := exampletest.Run(t, "-workers", "3", "-n", "3000000")
	require.Equal(t, 0, r.Code, r.Stderr)
	out := r.Stdout
	// Python's documentation prints 3.1415927 and [0, -1, -2, ..., -9].
	assert.Contains(t, out, "main: num = 3.1415927\n")
	assert.Contains(t, out, "main: arr = [0 -1 -2 -3 -4 -5 -6 -7 -8 -9]\n")
	assert.Len(t, regexp.MustCompile(`\] worker \d: the sum of numbers \d+ to \d+ is \d+\n`).FindAllString(out, -1), 3)
	assert.Contains(t, out, "worker 2: the sum of numbers 2000001 to 3000000 is 2500000500000\n")
	assert.Contains(t, out, "main: 3 workers summed 3000000 shared numbers (3000000 counted): 4500001500000, and n(n+1)/2 = 4500001500000\n")
	// 64 bytes; on Windows, the page that holds them.
	assert.Regexp(t, `child: opened SharedMemory\("mp_[0-9a-f]{16}", size=(64|4096)\) by its name\n`, out)
	assert.Regexp(t, `main: the child wrote "hello from pid \d+" into the block\n`, out)
	assert.Empty(t, r.Stderr, "no warnings")
}
