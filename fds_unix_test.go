//go:build unix

package mp_test

import (
	"os"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// countFDs counts this process's open descriptors.
func countFDs(t *testing.T) int {
	t.Helper()
	dir := "/dev/fd" // macOS and the BSDs
	if runtime.GOOS == "linux" {
		dir = "/proc/self/fd"
	}
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	return len(ents)
}
