package main

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, main) }

func TestMainGuard(t *testing.T) {
	out := exampletest.MustRun(t).Stdout
	t.Run("child", func(t *testing.T) { child(t, out) })
	t.Run("forgotten guard", func(t *testing.T) { forgottenGuard(t, out) })
}

// child checks that the child ran package initialisation, and its target.
func child(t *testing.T, out string) {
	m := regexp.MustCompile(`\[pid (\d+)\] main: mp.Main returned, so this is the main process`).FindStringSubmatch(out)
	require.NotNil(t, m, "main line")
	parent := m[1]
	m = regexp.MustCompile(`\[pid (\d+)\] child: in a child, mp.Main runs the target`).FindStringSubmatch(out)
	require.NotNil(t, m, "child line")
	child := m[1]
	assert.NotEqual(t, parent, child)
	// The child ran package initialisation again; the parent printed none.
	for _, what := range []string{"package-level variable initialiser", "init()"} {
		assert.Contains(t, out, "[pid "+child+"] package tutorial: "+what+" ran\n")
		assert.NotContains(t, out, "[pid "+parent+"] package tutorial: "+what)
	}
	assert.Regexp(t, `\[pid `+parent+`\] main: Process-\d+ exited with code 0`, out)
}

// forgottenGuard checks what the program without a guard printed.
func forgottenGuard(t *testing.T, out string) {
	// The program without a guard and its child both run the code before
	// mp.Main; the child's Start is refused, so nothing goes further.
	starts := regexp.MustCompile(`    \| \[pid (\d+)\] no guard: starting a process before mp.Main`).FindAllStringSubmatch(out, -1)
	require.Len(t, starts, 2, "the program and its child")
	program, child := starts[0][1], starts[1][1]
	assert.NotEqual(t, program, child)
	assert.Regexp(t, `    \| \[pid `+program+`\] no guard: started Process-1, pid `+child+`\n`, out)
	assert.Regexp(t, `    \| \[pid `+child+`\] no guard: Start refused: mp: an attempt has been made to start a new process before the current process has finished its bootstrapping phase: call mp.Main\(targets...\) as the first statement of main`, out)
	assert.Regexp(t, `    \| \[pid `+program+`\] no guard: Join: mp: Process-1 \(pid `+child+`\) did not run its target: it tried to start a process before calling mp.Main, and was refused`, out)
	assert.Contains(t, out, "    | [pid "+program+"] no guard: errors.Is(err, mp.ErrMainGuard) = true\n")
	assert.NotContains(t, out, "child: in a child, mp.Main runs the target (this line) and exits: the rest of main never runs here\n    |",
		"the refused child never ran its target")
}
