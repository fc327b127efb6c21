package ring

import (
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/go-mp/mp/internal/testchild"
)

func init() { helpers["sink"] = sinkHelper }

// sinkHelper gets n messages at a time from the first queue and puts an
// acknowledgement on the second, until killed.
func sinkHelper(f *os.File, a []string) error {
	q, n, err := attachArgs(f, a[:2])
	if err != nil {
		return err
	}
	idb, _ := hex.DecodeString(a[2])
	size, _ := strconv.Atoi(a[3])
	ack, err := Attach([16]byte(idb), testchild.Files()[1], size, 0)
	if err != nil {
		return err
	}
	count, _ := strconv.Atoi(a[4])
	_ = n
	for {
		for range count {
			if _, err := q.Get(bg, time.Time{}); err != nil {
				return err
			}
		}
		if err := ack.Put(bg, []byte{1}, time.Time{}); err != nil {
			return err
		}
	}
}

// BenchmarkRing sends messages one way, from this process to a child,
// through rings of several sizes: the time from the first Put until the
// child has got them all. It is what chose DefaultRing.
func BenchmarkRing(b *testing.B) {
	for _, item := range []int{16, 4 << 10, 64 << 10, 1 << 20} {
		for _, ring := range []int{64 << 10, 256 << 10, 1 << 20, 4 << 20} {
			b.Run(fmt.Sprintf("item=%d/ring=%d", item, ring), func(b *testing.B) {
				count := max(20, min(20000, (64<<20)/max(item, 1)/10))
				q := newRing(b, Options{Ring: ring})
				ack := newRing(b, Options{Ring: 4096})
				qf, qs := q.File()
				af, as := ack.File()
				id := ack.ID()
				testchild.StartFiles(b, "sink", []*os.File{qf, af}, append(args(q)[:1], strconv.Itoa(qs),
					hex.EncodeToString(id[:]), strconv.Itoa(as), strconv.Itoa(count))...)
				msg := make([]byte, item)
				var per []time.Duration
				for b.Loop() {
					t0 := time.Now()
					for range count {
						if err := q.Put(bg, msg, time.Time{}); err != nil {
							b.Fatal(err)
						}
					}
					if _, err := ack.Get(bg, time.Time{}); err != nil {
						b.Fatal(err)
					}
					per = append(per, time.Since(t0)/time.Duration(count))
				}
				sort.Slice(per, func(i, j int) bool { return per[i] < per[j] })
				m := per[len(per)/2]
				b.ReportMetric(1/m.Seconds(), "msgs/s")
				b.ReportMetric(float64(item)/m.Seconds()/1e6, "MB/s")
			})
		}
	}
}
