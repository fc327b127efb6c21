package managers_test

import (
	"testing"

	"github.com/go-mp/mp/managers"
)

// BenchmarkDictInProcess: Set+Get round trips with the server in this
// process (over its socket all the same), for profiling the calls' own
// cost.
func BenchmarkDictInProcess(b *testing.B) {
	_, m := inProcess(b)
	d := must[*managers.Dict[string, int]](b)(managers.NewDict[string, int](m))
	b.ReportAllocs()
	for i := range b.N {
		if err := d.Set("k", i); err != nil {
			b.Fatal(err)
		}
		if _, err := d.Get("k"); err != nil {
			b.Fatal(err)
		}
	}
}
