package mp_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-mp/mp"
)

func init() { ipcTargets = append(ipcTargets, rawEcho, bulkSink, queueSink) }

// rawEcho serves round trips on two pipes at once: raw bytes of size on
// raw (the floor) and messages on conn.
func rawEcho(raw, conn *mp.Conn, size int) error {
	go func() { _ = echo(conn) }()
	r, w := mp.ConnFiles(raw)
	buf := make([]byte, size)
	for {
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
}

// bulkSink reads batches of n bytes raw from raw, or n messages from
// conn, acknowledging each batch with one byte.
func bulkSink(raw, conn *mp.Conn, size, batch int) error {
	go func() {
		msg := make([]byte, size)
		for {
			for range batch {
				if _, err := conn.RecvBytesInto(msg); err != nil {
					return
				}
			}
			if conn.SendBytes([]byte{1}) != nil {
				return
			}
		}
	}()
	r, w := mp.ConnFiles(raw)
	buf := make([]byte, size*batch)
	for {
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil
		}
		if _, err := w.Write([]byte{1}); err != nil {
			return err
		}
	}
}

// startPair starts target with a raw and a message pipe (both duplex),
// and returns the parent's ends.
func startPair(b *testing.B, target any, args ...any) (raw, conn *mp.Conn) {
	b.Helper()
	raw, rawChild, err := mp.Pipe(true)
	if err != nil {
		b.Fatal(err)
	}
	conn, connChild, err := mp.Pipe(true)
	if err != nil {
		b.Fatal(err)
	}
	p := mp.NewProcess(target, append([]any{rawChild, connChild}, args...)...)
	if err := p.Start(); err != nil {
		b.Fatal(err)
	}
	rawChild.Close()
	connChild.Close()
	b.Cleanup(func() {
		raw.Close()
		conn.Close()
		_ = p.Join()
	})
	return raw, conn
}

// BenchmarkPipeRoundTrip measures a 64-byte round trip parent -> child ->
// parent over a Pipe against the floor, a raw os.Pipe round trip between
// the same two processes; iterations alternate, and it reports medians
// and their ratio ("x-raw", rate over the raw rate; the goal is at least
// 0.8).
func BenchmarkPipeRoundTrip(b *testing.B) {
	const size = 64
	raw, conn := startPair(b, rawEcho, size)
	rr, rw := mp.ConnFiles(raw)
	msg, buf := bytes.Repeat([]byte{'x'}, size), make([]byte, size)
	var floor, ours []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := rw.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(rr, buf); err != nil {
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

// BenchmarkPipeBulk measures bytes in 1 MiB messages, 8 to a batch the
// child acknowledges, against the same bytes written raw. The child
// receives with RecvBytesInto into one buffer, as the raw floor reads
// into one.
func BenchmarkPipeBulk(b *testing.B) {
	const size, batch = 1 << 20, 8
	raw, conn := startPair(b, bulkSink, size, batch)
	rr, rw := mp.ConnFiles(raw)
	msg, ack := bytes.Repeat([]byte{'x'}, size), make([]byte, 1)
	var floor, ours []time.Duration
	for b.Loop() {
		t0 := time.Now()
		for range batch {
			if _, err := rw.Write(msg); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := io.ReadFull(rr, ack); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		for range batch {
			if err := conn.SendBytes(msg); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := conn.RecvBytes(); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		floor, ours = append(floor, t1.Sub(t0)), append(ours, t2.Sub(t1))
	}
	f, o := median(floor), median(ours)
	b.ReportMetric(size*batch/f.Seconds()/1e9, "raw-GB/s")
	b.ReportMetric(size*batch/o.Seconds()/1e9, "mp-GB/s")
	b.ReportMetric(f.Seconds()/o.Seconds(), "x-raw")
}

// queueSink gets n items from q, n at a time, and says so on done.
func queueSink(q, done *mp.Queue, n int) error {
	if err := done.Put(0); err != nil {
		return err
	}
	for {
		for range n {
			var it item
			if err := q.Get(&it); err != nil {
				return nil
			}
		}
		if err := done.Put(n); err != nil {
			return err
		}
	}
}

// BenchmarkQueue measures one-way small messages (an int and a short
// string) from the parent to a child through a Queue: the time from the
// first Put until the child has got them all, per message. When python3
// is present it runs bench/pyqueue.py for Python's multiprocessing.Queue
// doing the same, and reports the ratio of the rates ("x-python"; the
// goal is at least 2).
func BenchmarkQueue(b *testing.B) {
	const n = 20000
	q, err := mp.NewQueue(0)
	if err != nil {
		b.Fatal(err)
	}
	done, err := mp.NewQueue(0)
	if err != nil {
		b.Fatal(err)
	}
	p := mp.NewProcess(queueSink, q, done, n)
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
	var per, putOnly []time.Duration
	for b.Loop() {
		t0 := time.Now()
		for i := range n {
			if err := q.Put(item{i, "hello"}); err != nil {
				b.Fatal(err)
			}
		}
		putOnly = append(putOnly, time.Since(t0)/n)
		if err := done.Get(&ready); err != nil {
			b.Fatal(err)
		}
		per = append(per, time.Since(t0)/n)
	}
	ours, oursPut := 1/median(per).Seconds(), 1/median(putOnly).Seconds()
	b.ReportMetric(ours, "mp-msgs/s")
	b.ReportMetric(oursPut, "mp-put-only/s")
	if py, pyPut := pythonQueueRate(b); py > 0 {
		b.ReportMetric(py, "python-msgs/s")
		b.ReportMetric(pyPut, "python-put-only/s")
		b.ReportMetric(ours/py, "x-python")
	}
}

// pythonQueueRate runs bench/pyqueue.py, or returns 0 without python3: the
// rate until the child has got every item, and the rate of the parent's
// puts alone.
func pythonQueueRate(b *testing.B) (float64, float64) {
	py, err := exec.LookPath("python3")
	if err != nil || runtime.GOOS == "windows" {
		return 0, 0
	}
	script, _ := filepath.Abs(filepath.Join("bench", "pyqueue.py"))
	if _, err := os.Stat(script); err != nil {
		return 0, 0
	}
	out, err := exec.Command(py, script).Output()
	if err != nil {
		b.Logf("python3 %s: %v", script, err)
		return 0, 0
	}
	f := strings.Fields(string(out))
	if len(f) < 4 {
		return 0, 0
	}
	v, _ := strconv.ParseFloat(f[1], 64)
	put, _ := strconv.ParseFloat(f[3], 64)
	b.Logf("%s", strings.TrimSpace(string(out)))
	return v, put
}

func init() { ipcTargets = append(ipcTargets, largeSink) }

// largeSink reads batches of n bytes raw from raw, acknowledging each with
// one byte, and gets batches of n items from q, acknowledging each on
// done.
func largeSink(raw *mp.Conn, q, done *mp.Queue, size, batch int) error {
	go func() {
		r, w := mp.ConnFiles(raw)
		buf := make([]byte, size*batch)
		for {
			if _, err := io.ReadFull(r, buf); err != nil {
				return
			}
			if _, err := w.Write([]byte{1}); err != nil {
				return
			}
		}
	}()
	for {
		for range batch {
			var b []byte
			if err := q.Get(&b); err != nil {
				return nil
			}
		}
		if err := done.Put(batch); err != nil {
			return err
		}
	}
}

// BenchmarkQueueLarge measures large items ([]byte of 1 MiB) from the
// parent to a child through a Queue, until the child has got them all,
// against the floor: the same bytes through a raw os.Pipe between the same
// processes. Iterations alternate; it reports medians and the ratio
// ("x-raw", rate over the raw rate).
func BenchmarkQueueLarge(b *testing.B) {
	const size, batch = 1 << 20, 16
	raw, rawChild, err := mp.Pipe(true)
	if err != nil {
		b.Fatal(err)
	}
	q, err := mp.NewQueue(0)
	if err != nil {
		b.Fatal(err)
	}
	done, err := mp.NewQueue(0)
	if err != nil {
		b.Fatal(err)
	}
	p := mp.NewProcess(largeSink, rawChild, q, done, size, batch)
	if err := p.Start(); err != nil {
		b.Fatal(err)
	}
	rawChild.Close()
	b.Cleanup(func() {
		raw.Close()
		_ = p.Kill()
		_ = p.Join()
		q.Close()
		done.Close()
	})
	rr, rw := mp.ConnFiles(raw)
	item := bytes.Repeat([]byte{'x'}, size)
	ack := make([]byte, 1)
	var floor, ours []time.Duration
	for b.Loop() {
		t0 := time.Now()
		for range batch {
			if _, err := rw.Write(item); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := io.ReadFull(rr, ack); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		for range batch {
			if err := q.Put(item); err != nil {
				b.Fatal(err)
			}
		}
		var n int
		if err := done.Get(&n); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		floor, ours = append(floor, t1.Sub(t0)), append(ours, t2.Sub(t1))
	}
	f, o := median(floor), median(ours)
	b.ReportMetric(size*batch/f.Seconds()/1e6, "raw-MB/s")
	b.ReportMetric(size*batch/o.Seconds()/1e6, "mp-MB/s")
	b.ReportMetric(f.Seconds()/o.Seconds(), "x-raw")
}
