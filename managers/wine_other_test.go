//go:build !windows

package managers_test

// underWine reports whether this program runs under Wine: never, off
// Windows.
func underWine() bool { return false }
