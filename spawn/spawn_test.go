package spawn_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp/spawn"
)

// TestSetExecutable changes process-wide state: it does not run in
// parallel.
func TestSetExecutable(t *testing.T) {
	self, err := os.Executable()
	require.NoError(t, err)
	got, err := spawn.Executable()
	require.NoError(t, err)
	assert.Equal(t, self, got, "the default is the running program")

	dir := t.TempDir()
	prog := filepath.Join(dir, "prog")
	require.NoError(t, os.WriteFile(prog, nil, 0o755))
	t.Cleanup(func() { _ = spawn.SetExecutable("") })
	t.Chdir(dir)

	require.NoError(t, spawn.SetExecutable("prog"))
	got, err = spawn.Executable()
	require.NoError(t, err)
	want, err := filepath.Abs("prog")
	require.NoError(t, err)
	assert.Equal(t, want, got, "a relative path is made absolute at the call")

	for _, bad := range []string{"missing", dir} {
		err := spawn.SetExecutable(bad)
		require.Error(t, err, bad)
		assert.True(t, strings.HasPrefix(err.Error(), "mp: spawn.SetExecutable("), err.Error())
		got, _ = spawn.Executable()
		assert.Equal(t, want, got, "a refused path changes nothing")
	}
	assert.ErrorIs(t, spawn.SetExecutable("missing"), os.ErrNotExist)

	require.NoError(t, spawn.SetExecutable(""))
	got, err = spawn.Executable()
	require.NoError(t, err)
	assert.Equal(t, self, got, "an empty path restores the default")
}

func ExampleExecutable() {
	exe, err := spawn.Executable()
	if err != nil {
		fmt.Println(err)
		return
	}
	self, _ := os.Executable()
	fmt.Println("children run this program:", exe == self)
	// Output: children run this program: true
}
