//go:build !windows

package mp_test

// hasConsole reports whether Interrupt can reach a child: always, off
// Windows, where it is a signal.
func hasConsole() bool { return true }
