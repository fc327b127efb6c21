//go:build !race

package robust

// raceClock is empty without -race; see race.go.
type raceClock struct{}

func (*raceClock) release() {}
func (*raceClock) acquire() {}
