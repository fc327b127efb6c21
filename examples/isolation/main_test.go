package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/go-mp/mp/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, main) }

func TestIsolation(t *testing.T) {
	t.Parallel()
	out := exampletest.MustRun(t).Stdout
	for _, m := range []string{"spawn", "fork", "forkserver"} {
		assert.Contains(t, out, "-- money (not registered), start method "+m+" --")
		assert.Contains(t, out, "child ("+m+"): money = 100, setting it to 999\n")
		assert.Contains(t, out, "child ("+m+"): money = 999\n")
		assert.Contains(t, out, "parent ("+m+") after join: money = 100\n")
	}
	assert.Contains(t, out, "parent: savings = 500, set before Start\n")
	assert.Contains(t, out, "child (fork): savings = 500 (Fork: the parent's value as of Start)", "Fork carries registered globals as of Start")
	assert.Contains(t, out, "child (spawn): savings = 100 (Spawn: the initial value)", "Spawn starts from the initial value")
	assert.Contains(t, out, "child (forkserver): savings = 100 (Forkserver: the initial value, in a child started ahead of time)",
		"so does Forkserver")
	assert.Contains(t, out, "parent after join: savings = 500 ")
}
