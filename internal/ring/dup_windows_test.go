package ring

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"
)

// dupFile returns another handle of f, as another process would have.
func dupFile(t *testing.T, f *os.File) *os.File {
	p := windows.CurrentProcess()
	var h windows.Handle
	require.NoError(t, windows.DuplicateHandle(p, windows.Handle(f.Fd()), p, &h, 0, false, windows.DUPLICATE_SAME_ACCESS))
	return os.NewFile(uintptr(h), "dup")
}
