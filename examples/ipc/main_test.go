package main

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/go-mp/mp/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, main) }

func TestIPC(t *testing.T) {
	t.Parallel()
	out := exampletest.MustRun(t, "-producers", "3", "-items", "2000", "-rounds", "4").Stdout
	assert.Len(t, regexp.MustCompile(`\] Process-\d+: put 2000 jobs\n`).FindAllString(out, -1), 3)
	assert.Contains(t, out, "consumer: got 6000 jobs from 3 producers, each producer's in order")
	// 3 * (1 + ... + 2000)
	assert.Contains(t, out, "main: the consumer got 6000 jobs; the sum of their numbers is 6003000")
	for i := 1; i <= 4; i++ {
		assert.Contains(t, out, fmt.Sprintf(`main: sent "ping %d", got "pong %d"`, i, i))
	}
	assert.Contains(t, out, "child: the parent closed the pipe")
}
