package mp_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
)

func init() { targets = append(targets, failingGrandchild) }

// failingGrandchild starts a child that fails, and fails with its error.
func failingGrandchild() error {
	p := mp.NewProcess(fail, "the grandchild failed")
	if err := p.Start(); err != nil {
		return err
	}
	return p.Join()
}

// TestFailurePrinted checks that a failing child says so on its own
// standard error, as Python's does ("Process Process-1:" and the
// traceback), unless told to keep quiet, and that Join's error carries the
// same either way.
func TestFailurePrinted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		target any
		args   []any
		quiet  bool
		want   func(t *testing.T, p *mp.Process, stderr string)
	}{
		{name: "error", target: fail, args: []any{"it failed"}, want: func(t *testing.T, p *mp.Process, stderr string) {
			assert.Equal(t, "Process "+p.Name+":\nerror: it failed\n", stderr)
		}},
		{name: "panic", target: boom, args: []any{"bang"}, want: func(t *testing.T, p *mp.Process, stderr string) {
			assert.Regexp(t, `^Process `+p.Name+":\npanic: boom: bang\n\ngoroutine \\d+ ", stderr)
			assert.Contains(t, stderr, "mp_test.panicky(")
		}},
		{name: "goexit", target: goexit, want: func(t *testing.T, p *mp.Process, stderr string) {
			assert.Equal(t, "Process "+p.Name+":\nerror: mp: the target called runtime.Goexit\n", stderr)
		}},
		{name: "success", target: noop, want: func(t *testing.T, _ *mp.Process, stderr string) {
			assert.Empty(t, stderr)
		}},
		{name: "os.Exit", target: exitWith, args: []any{3}, want: func(t *testing.T, _ *mp.Process, stderr string) {
			assert.Empty(t, stderr, "Python prints nothing for sys.exit(3) either")
		}},
		{name: "quiet error", target: fail, args: []any{"it failed"}, quiet: true, want: func(t *testing.T, _ *mp.Process, stderr string) {
			assert.Empty(t, stderr)
		}},
		{name: "quiet panic", target: boom, args: []any{"bang"}, quiet: true, want: func(t *testing.T, _ *mp.Process, stderr string) {
			assert.Empty(t, stderr)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stderr syncBuffer
			p := mp.NewProcess(tt.target, tt.args...)
			p.Stderr, p.Quiet = &stderr, tt.quiet
			start(t, p)
			err := p.Join()
			tt.want(t, p, stderr.String())
			if code, _ := p.ExitCode(); code == 1 {
				var e *mp.ExitError
				require.ErrorAs(t, err, &e)
				assert.True(t, e.Err != "" || e.Panic != "", "Join's error carries the failure, quiet or not")
			}
		})
	}
}

// TestSetQuiet checks that SetQuiet silences the children, and that they
// pass the setting on to theirs. It changes a global: not parallel.
func TestSetQuiet(t *testing.T) {
	run := func() string {
		var stderr syncBuffer
		p := mp.NewProcess(failingGrandchild)
		p.Stderr = &stderr
		start(t, p)
		require.Error(t, p.Join())
		return stderr.String()
	}
	loud := run()
	assert.Regexp(t, `(?m)^Process Process-\d+:\d+:\nerror: the grandchild failed$`, loud)
	assert.Regexp(t, `(?m)^Process Process-\d+:\nerror: mp: Process-\d+:\d+ \(pid \d+\) exited with code 1: the grandchild failed$`, loud)

	mp.SetQuiet(true)
	t.Cleanup(func() { mp.SetQuiet(false) })
	assert.Empty(t, run(), "neither the child nor the grandchild prints")
}
