package main

import (
	"regexp"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, main) }

func TestMethods(t *testing.T) {
	t.Parallel()
	out := exampletest.MustRun(t).Stdout

	m := regexp.MustCompile(`\[pid (\d+)\] CurrentProcess\(\): name "MainProcess", PID\(\) (\d+) \(os.Getpid\(\) (\d+)\)`).FindStringSubmatch(out)
	require.NotNil(t, m, "current process line")
	pid := m[1]
	assert.Equal(t, pid, m[2])
	assert.Equal(t, pid, m[3])
	assert.Contains(t, out, "ParentProcess(): nil, as in any main process")

	m = regexp.MustCompile(`default name: (Process-\d+)\n`).FindStringSubmatch(out)
	require.NotNil(t, m, "default name line")
	assert.Regexp(t, `\[pid (\d+)\] child: CurrentProcess\(\).Name = "`+m[1]+`", PID\(\) = \d+; ParentProcess\(\).Name = "MainProcess", PID\(\) = `+pid+` \(os.Getppid\(\) = `+pid+`\)`, out)

	assert.Contains(t, out, "given name: worker\n")
	assert.Contains(t, out, `before Start: <Process name='worker' parent=`+pid+` initial>, IsAlive() = false, PID() = 0`)
	assert.Regexp(t, `after Start: <Process name='worker' pid=\d+ parent=`+pid+` started>, IsAlive\(\) = true, PID\(\) = [1-9]\d*`, out)
	assert.Contains(t, out, "active children: [spinner worker]\n")

	blocked, running := "blocked", "running"
	if runtime.GOOS == "windows" {
		blocked = "running" // Windows reports no scheduler state
	}
	assert.Contains(t, out, "Status() of worker once it is sleeping: "+blocked+"\n")
	assert.Contains(t, out, "Status() of spinner once it is computing: "+running+"\n")

	assert.Regexp(t, `IsAlive\(\) right after Terminate: (true|false) `, out)
	assert.Regexp(t, `JoinTimeout: mp: worker \(pid \d+\) .*-15`, out)
	assert.Contains(t, out, "after JoinTimeout: IsAlive() = false, ExitCode() = -15, true, Status() = exited\n")
	assert.Regexp(t, `<Process name='worker' pid=\d+ parent=`+pid+` stopped exitcode=-SIGTERM>`, out)
}
