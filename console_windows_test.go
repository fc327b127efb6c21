package mp_test

import "golang.org/x/sys/windows"

// hasConsole reports whether this process has a console, which Windows
// console control events (Interrupt) need: the Wine lane runs the tests
// with none.
func hasConsole() bool {
	cp, err := windows.GetConsoleCP()
	return err == nil && cp != 0
}
