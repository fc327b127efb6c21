// Package isolation says what an mp child inherits from its parent.
//
// Processes share no memory. A child started with the Spawn method begins
// from the program's initial state: package variables as initialised, init
// functions run, main up to mp.Main. So does one started with Forkserver,
// which was started ahead of time and waited there. A child started with
// the Fork method
// begins the same way and is then given, before its target runs, the values
// that the globals registered here had in the parent when Start was called:
//
//	var money = 100
//
//	func init() { isolation.Inherit("money", &money) }
//
// Nothing else is carried: not unregistered variables, not goroutines, locks,
// open files or connections, not heap objects reachable only through
// unregistered variables. A real fork(2) would copy all of memory, but the Go
// runtime cannot fork a running, multi-threaded program (golang/go#14767:
// only the forking thread survives, leaving the runtime's other threads,
// locks and the garbage collector in an undefined state), so mp re-executes
// the binary and carries named values explicitly.
//
// Values are carried as Send and Put carry them (see Values in package mp),
// so a registered global must be encodable: exported struct fields (or
// fields tagged `mp:"-"`, left behind), named types inside interfaces
// registered with mp.RegisterType. Start reports a global that is not.
package isolation

import "github.com/go-mp/mp/internal/inherit"

// Inherit registers the global that ptr points to under name, so that the
// Fork start method gives children its value as of Start. Call it from init,
// or before mp.Main, so that parent and child register the same names.
// Registering the same pointer twice under one name is harmless.
//
// Inherit panics if ptr is not a non-nil pointer, if name is empty, or if
// name is already registered for another variable.
func Inherit(name string, ptr any) {
	inherit.Add(name, ptr)
}

// Names returns the names registered with Inherit, sorted.
func Names() []string {
	return inherit.Names()
}
