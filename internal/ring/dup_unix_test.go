//go:build unix

package ring

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// dupFile returns another descriptor of f, as another process would have.
func dupFile(t *testing.T, f *os.File) *os.File {
	fd, err := unix.Dup(int(f.Fd()))
	require.NoError(t, err)
	return os.NewFile(uintptr(fd), "dup")
}
