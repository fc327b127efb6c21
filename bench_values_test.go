package mp_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/go-mp/mp"
)

func init() { ipcTargets = append(ipcTargets, kindSink, kindEcho) }

type tenFields struct {
	A, B, C int64
	D, E    string
	F       float64
	G       bool
	H       []byte
	I       uint32
	J       time.Duration
}

// valueKinds are the typical items: {int, string}, a struct of ten
// fields, 1000 float64s, a map of 100 string keys, a time.
var valueKinds = []string{"item", "struct10", "floats1000", "map100", "time"}

func kindValue(kind string) any {
	switch kind {
	case "item":
		return item{42, "hello"}
	case "struct10":
		return tenFields{1, 2, 3, "four", "five", 6.5, true, []byte("eight"), 9, 10 * time.Second}
	case "floats1000":
		f := make([]float64, 1000)
		for i := range f {
			f[i] = math.Sqrt(float64(i)) // full mantissas, as measured data has
		}
		return f
	case "map100":
		m := make(map[string]int, 100)
		for i := range 100 {
			m[fmt.Sprint("key", i)] = i
		}
		return m
	}
	return time.Date(2024, 5, 6, 7, 8, 9, 10, time.UTC)
}

// recvKind receives a value of kind with get.
func recvKind(kind string, get func(any) error) error {
	switch kind {
	case "item":
		var v item
		return get(&v)
	case "struct10":
		var v tenFields
		return get(&v)
	case "floats1000":
		var v []float64
		return get(&v)
	case "map100":
		var v map[string]int
		return get(&v)
	}
	var v time.Time
	return get(&v)
}

// kindSink gets n values of kind from q at a time, and says so on done.
func kindSink(q, done *mp.Queue, kind string, n int) error {
	if err := done.Put(0); err != nil {
		return err
	}
	for {
		for range n {
			if err := recvKind(kind, q.Get); err != nil {
				return nil
			}
		}
		if err := done.Put(n); err != nil {
			return err
		}
	}
}

// kindEcho receives values of kind and sends them back.
func kindEcho(c *mp.Conn, kind string) error {
	for {
		v := kindValue(kind) // overwritten: the received value is sent back
		var err error
		switch kind {
		case "item":
			var x item
			err = c.Recv(&x)
			v = x
		case "floats1000":
			var x []float64
			err = c.Recv(&x)
			v = x
		default:
			err = recvKind(kind, c.Recv)
		}
		if err != nil {
			return nil
		}
		if err := c.Send(v); err != nil {
			return err
		}
	}
}

// BenchmarkQueueKinds measures the typical items one way through a Queue
// to a child, until the child has got them all: the codec's share of a
// Queue's throughput. Compare a build of another codec in the same run.
func BenchmarkQueueKinds(b *testing.B) {
	for _, kind := range valueKinds {
		b.Run(kind, func(b *testing.B) {
			const n = 2000
			q, err := mp.NewQueue(0)
			if err != nil {
				b.Fatal(err)
			}
			done, err := mp.NewQueue(0)
			if err != nil {
				b.Fatal(err)
			}
			p := mp.NewProcess(kindSink, q, done, kind, n)
			if err := p.Start(); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				_ = p.Kill()
				_ = p.Join()
				q.Close()
				done.Close()
			})
			var ready int
			if err := done.Get(&ready); err != nil {
				b.Fatal(err)
			}
			v := kindValue(kind)
			var per []time.Duration
			for b.Loop() {
				t0 := time.Now()
				for range n {
					if err := q.Put(v); err != nil {
						b.Fatal(err)
					}
				}
				if err := done.Get(&ready); err != nil {
					b.Fatal(err)
				}
				per = append(per, time.Since(t0)/n)
			}
			b.ReportMetric(1/median(per).Seconds(), "msgs/s")
		})
	}
}

// BenchmarkPipeKinds measures round trips of the typical items through a
// Pipe to a child that sends each back.
func BenchmarkPipeKinds(b *testing.B) {
	for _, kind := range valueKinds {
		b.Run(kind, func(b *testing.B) {
			a, c, err := mp.Pipe(true)
			if err != nil {
				b.Fatal(err)
			}
			p := mp.NewProcess(kindEcho, c, kind)
			if err := p.Start(); err != nil {
				b.Fatal(err)
			}
			c.Close()
			b.Cleanup(func() {
				a.Close()
				_ = p.Join()
			})
			v := kindValue(kind)
			var per []time.Duration
			for b.Loop() {
				t0 := time.Now()
				if err := a.Send(v); err != nil {
					b.Fatal(err)
				}
				if err := recvKind(kind, a.Recv); err != nil {
					b.Fatal(err)
				}
				per = append(per, time.Since(t0))
			}
			b.ReportMetric(1/median(per).Seconds(), "rt/s")
		})
	}
}
