package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/go-mp/mp/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, main) }

func TestManager(t *testing.T) {
	t.Parallel()
	out := exampletest.MustRun(t, "-workers", "6", "-increments", "300").Stdout
	assert.Contains(t, out, "child: set d[1], d['2'] and d[0.25], reversed l")
	assert.Contains(t, out, "main: d = {1: '1', '2': 2, 0.25: None}")
	assert.Contains(t, out, "main: l = [9 8 7 6 5 4 3 2 1 0]")
	assert.Contains(t, out, "main: maths.Add(4, 3) = 7, maths.Mul(7, 8) = 56")
	assert.Contains(t, out, "child: maths.Mul(6, 7) = 42")
	assert.Contains(t, out, `main: 6 workers x 300 Add("hits", 1) = 1800 hits, none lost`)
	assert.Contains(t, out, `client: put "hello"`)
	assert.Contains(t, out, `main: got "hello" from the remote manager's queue`)
}
