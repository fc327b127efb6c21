package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/go-mp/mp/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, main) }

func TestPool(t *testing.T) {
	t.Parallel()
	r := exampletest.MustRun(t, "-workers", "3", "-slow", "1h", "-timeout", "200ms", "-items", "30")
	out := r.Stdout
	assert.Contains(t, out, "main: <Pool state=RUN pool_size=3>")
	assert.Contains(t, out, "map: [1 4 9]")
	assert.Contains(t, out, "imap_unordered, sorted: [0 1 4 9 16 25 36 49 64 81]")
	assert.Regexp(t, `4 tasks of 50ms ran in [123] worker processes`, out)
	assert.Contains(t, out, "apply_async(sleep 1h0m0s).get(timeout=200ms): ErrNotReady=true")
	assert.Contains(t, out, "cancelled with WithKillOnCancel: context canceled")
	assert.Regexp(t, `a worker killed mid-task: task error with exit code -?\d+; the others: \[16 25 36\] \(<nil>\)`, out)
	assert.Contains(t, out, "word count over 5 texts")
	assert.Regexp(t, `\n\[pid \d+\]   processes +\d+\n`, out, "the most common word of the built-in text")
	assert.Contains(t, out, "imap: 30 results, in order, under a progress bar")
	assert.Regexp(t, `imap 100% .*\(30/30`, out, "the progress bar, finished")
	// The whole run, its hour-long task included, is quick: the cancelled
	// call's worker was killed.
	assert.Less(t, r.Elapsed.Seconds(), 30.0)
}

func TestPoolWordCountFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.txt")
	assert.NoError(t, os.WriteFile(a, []byte(strings.Repeat("gopher python ", 7)), 0o600))
	assert.NoError(t, os.WriteFile(b, []byte(strings.Repeat("gopher ", 5)), 0o600))
	out := exampletest.MustRun(t, "-workers", "2", "-timeout", "10ms", "-slow", "1h", "-items", "3", a, b).Stdout
	assert.Contains(t, out, "word count over 2 texts, 2 distinct words")
	assert.Regexp(t, regexp.MustCompile(`gopher +12\n`), out)
	assert.Regexp(t, regexp.MustCompile(`python +7\n`), out)
}
