package managers_test

import "golang.org/x/sys/windows"

// underWine reports whether this Windows program runs under Wine, which
// exports wine_get_version from its ntdll.
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}
