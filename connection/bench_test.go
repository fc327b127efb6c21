package connection_test

import (
	"bytes"
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/go-mp/mp"
	"github.com/go-mp/mp/connection"
)

func init() { targets = append(targets, sockEcho) }

// sockEcho serves round trips on two connections at once: raw bytes of
// size on a plain socket to rawAddr (the floor), and messages on an
// authenticated connection to the Listener at address.
func sockEcho(family, address, rawAddr string, size int) error {
	c, err := connection.Client(family, address, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	raw, err := net.Dial(family, rawAddr)
	if err != nil {
		return err
	}
	defer raw.Close()
	go func() {
		for {
			b, err := c.RecvBytes()
			if err != nil || c.SendBytes(b) != nil {
				return
			}
		}
	}()
	buf := make([]byte, size)
	for {
		if _, err := io.ReadFull(raw, buf); err != nil {
			return nil
		}
		if _, err := raw.Write(buf); err != nil {
			return err
		}
	}
}

// BenchmarkSocketRoundTrip measures a 64-byte round trip parent -> child
// -> parent over a connection from Listener and Client, against the floor,
// a raw round trip on a plain socket of the same family between the same
// two processes; iterations alternate, and it reports medians and their
// ratio ("x-raw", the rate over the raw rate).
func BenchmarkSocketRoundTrip(b *testing.B) {
	const size = 64
	family := connection.DefaultFamily()
	l, err := connection.Listen(family, "", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	rawLn, err := net.Listen(family, rawAddress(b, family))
	if err != nil {
		b.Fatal(err)
	}
	defer rawLn.Close()
	fam, addr := l.Addr()
	p := mp.NewProcess(sockEcho, fam, addr, rawLn.Addr().String(), size)
	if err := p.Start(); err != nil {
		b.Fatal(err)
	}
	conn, err := l.Accept()
	if err != nil {
		b.Fatal(err)
	}
	raw, err := rawLn.Accept()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		conn.Close()
		raw.Close()
		_ = p.Join()
	})
	msg, buf := bytes.Repeat([]byte{'x'}, size), make([]byte, size)
	var floor, ours []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := raw.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(raw, buf); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := conn.SendBytes(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := conn.RecvBytes(); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		floor, ours = append(floor, t1.Sub(t0)), append(ours, t2.Sub(t1))
	}
	f, o := median(floor), median(ours)
	b.ReportMetric(1/f.Seconds(), "raw-rt/s")
	b.ReportMetric(1/o.Seconds(), "mp-rt/s")
	b.ReportMetric(f.Seconds()/o.Seconds(), "x-raw")
}

// rawAddress is an address for the floor's listener.
func rawAddress(b *testing.B, family string) string {
	if family == connection.FamilyTCP {
		return "127.0.0.1:0"
	}
	return b.TempDir() + "/raw"
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
