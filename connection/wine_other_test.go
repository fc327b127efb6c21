//go:build !windows

package connection_test

// underWine reports whether this program runs under Wine: never, off
// Windows.
func underWine() bool { return false }
