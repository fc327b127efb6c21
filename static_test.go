package mp_test

import (
	"debug/elf"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goTool returns the go command, and skips the test where there is none.
func goTool(t testing.TB) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		// The Wine lane runs the Windows test binary with no toolchain.
		t.Skipf("no Go toolchain on PATH (%v): the Windows lane under Wine runs the test binary alone", err)
	}
	return goCmd
}

// forbidden are the packages a program importing only mp and mp/isolation
// must not link: net and os/user bring runtime/cgo with them wherever the
// system resolver or user database is reached through libc, and
// runtime/cgo makes the program dynamically linked, which costs every
// child start the dynamic loader.
//
// On Windows golang.org/x/sys/windows itself imports net (for
// SocketAddress.IP), so net cannot be avoided there; but net on Windows
// calls the system's DLLs without cgo, as every Go program on Windows does,
// and the executable needs no loader of its own.
func forbidden(goos string) []string {
	if goos == "windows" {
		return []string{"runtime/cgo", "os/user"}
	}
	return []string{"net", "runtime/cgo", "os/user"}
}

// TestNoNetNoCgo: the packages mp and mp/isolation, and so a program that
// imports only them, depend on none of the forbidden packages, on each OS
// the CI builds for. CGO_ENABLED=1 is what a native build has by default.
func TestNoNetNoCgo(t *testing.T) {
	goCmd := goTool(t)
	for _, target := range []string{"linux/amd64", "linux/arm64", "windows/amd64", "darwin/amd64", "darwin/arm64", "freebsd/amd64"} {
		goos, goarch, _ := strings.Cut(target, "/")
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(goCmd, "list", "-deps", "github.com/go-mp/mp", "github.com/go-mp/mp/isolation")
			cmd.Env = append(cmd.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=1", "GOFLAGS=")
			out, err := cmd.Output()
			require.NoError(t, err, "go list: %s", stderrOf(err))
			deps := strings.Fields(string(out))
			require.Contains(t, deps, "github.com/go-mp/mp")
			var found []string
			for _, p := range forbidden(goos) {
				if slices.Contains(deps, p) {
					found = append(found, p)
				}
			}
			assert.Empty(t, found, "GOOS=%s: mp and mp/isolation link these", goos)
		})
	}
}

// TestStaticBinary: on Linux, bench/startjoin, a program importing only mp
// and mp/isolation, built as go build builds it (cgo enabled), is
// statically linked: no program interpreter, no shared libraries.
func TestStaticBinary(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skipf("the ELF check is for Linux; on %s TestNoNetNoCgo covers the dependencies", runtime.GOOS)
	}
	assert.True(t, isStatic(t, buildStartJoin(t)), "bench/startjoin is dynamically linked")
}

// isStatic reports whether the ELF executable at path asks for no program
// interpreter and no shared library.
func isStatic(t testing.TB, path string) bool {
	t.Helper()
	f, err := elf.Open(path)
	require.NoError(t, err)
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	libs, err := f.ImportedLibraries()
	require.NoError(t, err)
	return len(libs) == 0
}

// buildStartJoin builds bench/startjoin into a temporary directory, with
// cgo enabled as a native build has it.
func buildStartJoin(t testing.TB) string {
	t.Helper()
	goCmd := goTool(t)
	exe := filepath.Join(t.TempDir(), "startjoin")
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	cmd := exec.Command(goCmd, "build", "-o", exe, "./bench/startjoin")
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=1", "GOFLAGS=")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return exe
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
