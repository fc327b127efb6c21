package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, main) }

func TestCreate(t *testing.T) {
	t.Parallel()
	out := exampletest.MustRun(t, "-sleep", "100ms").Stdout

	m := regexp.MustCompile(`\[pid (\d+)\] main: parent process`).FindStringSubmatch(out)
	require.NotNil(t, m, "parent line")
	parent := m[1]
	for _, tt := range []struct{ name, process string }{
		{"test", `Process-\d+`},      // a function target: the process has a default name
		{"my-process", "my-process"}, // a Runner: its name is the Process's
	} {
		name := tt.name
		t.Run(name, func(t *testing.T) {
			running := regexp.MustCompile(`\[pid (\d+)\] child of pid (\d+): ` + name + ` running\n`).FindStringSubmatchIndex(out)
			require.NotNil(t, running, "running line")
			child, ppid := out[running[2]:running[3]], out[running[4]:running[5]]
			assert.NotEqual(t, parent, child, "the child is another process")
			assert.Equal(t, parent, ppid, "the child's parent is the main process")
			over := strings.Index(out, "[pid "+child+"] "+name+" is over\n")
			assert.Greater(t, over, running[0], "over after running")
			exited := regexp.MustCompile(`\[pid ` + parent + `\] main: ` + tt.process + ` exited with code 0\n`).FindStringIndex(out)
			require.NotNil(t, exited, "exit line")
			assert.Greater(t, exited[0], over, "Join returns after the child is over")
		})
	}
	assert.Contains(t, out, "main: the same child as a Runner, Python's class MyProcess(Process) with run")
}
