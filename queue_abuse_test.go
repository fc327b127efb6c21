package mp_test

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
)

func init() {
	ipcTargets = append(ipcTargets, abuseProducer, abuseConsumer, abuseJoinableConsumer)
}

// abuseItem is what the abuse tests put: who put it, its number, and data
// with a checksum. P < 0 is a poison pill.
type abuseItem struct {
	P, Seq int
	Sum    uint32
	Data   []byte
}

// abuseSize draws an item size: mostly small, some around the ring's
// quarter (where items begin to stream), a few above the whole ring.
func abuseSize(r *rand.Rand) int {
	switch x := r.IntN(100); {
	case x < 60:
		return r.IntN(200)
	case x < 85:
		return r.IntN(8 << 10)
	case x < 95:
		return r.IntN(100 << 10)
	case x < 98:
		return 200<<10 + r.IntN(200<<10) // items over a quarter of the ring stream
	default:
		return 900<<10 + r.IntN(800<<10) // the ring holds 1 MiB
	}
}

// abuseProducer puts items numbered from 0, of random sizes, until ctl
// says stop; then it sends on ctl how many it put.
func abuseProducer(q *mp.Queue, p int, ctl *mp.Conn) error {
	r := rand.New(rand.NewPCG(uint64(p), 7))
	i := 0
	for ; ; i++ {
		if stop, err := ctl.Poll(0); err != nil || stop {
			break
		}
		data := make([]byte, abuseSize(r))
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		if err := q.Put(abuseItem{P: p, Seq: i, Sum: crc32.ChecksumIEEE(data), Data: data}); err != nil {
			return err
		}
	}
	return ctl.Send(i)
}

// abuseConsumer gets items until a pill, checks each, and reports it on
// report. Every Get must return by its deadline (with a generous margin).
func abuseConsumer(q *mp.Queue, report *mp.Conn) error {
	return consumeAbuse(q, report, func() error { return nil })
}

// abuseJoinableConsumer is abuseConsumer calling TaskDone for each item,
// after reporting it.
func abuseJoinableConsumer(q *mp.JoinableQueue, report *mp.Conn) error {
	return consumeAbuse(&q.Queue, report, q.TaskDone)
}

func consumeAbuse(q *mp.Queue, report *mp.Conn, taskDone func() error) error {
	const timeout = 50 * time.Millisecond
	for {
		var it abuseItem
		t0 := time.Now()
		err := q.GetTimeout(&it, timeout)
		// Generous: this catches waits without a bound (for a dead
		// process, say), not a machine too loaded to run this one.
		if d := time.Since(t0); d > timeout+15*time.Second {
			return fmt.Errorf("GetTimeout(%v) took %v", timeout, d)
		}
		if errors.Is(err, mp.ErrEmpty) {
			continue
		}
		if err != nil {
			return err
		}
		if it.P < 0 {
			return taskDone()
		}
		if crc32.ChecksumIEEE(it.Data) != it.Sum {
			return fmt.Errorf("item %d/%d of %d bytes is corrupt", it.P, it.Seq, len(it.Data))
		}
		if err := report.Send([2]int{it.P, it.Seq}); err != nil {
			return err
		}
		if err := taskDone(); err != nil {
			return err
		}
	}
}

// abuseKills is how many children TestQueueAbuse kills: tens in go test,
// hundreds with MP_SOAK=1.
func abuseKills() int {
	switch {
	case os.Getenv("MP_SOAK") != "":
		return 300
	case testing.Short():
		return 8
	}
	return 24
}

// TestQueueAbuse: producer and consumer processes share a queue, with items
// from 0 bytes to above the ring's size, while random ones of them are
// killed (SIGKILL, TerminateProcess) and replaced. Every item arrives at
// most once and intact; a killed producer loses at most what it had not yet
// written (the end of its sequence), a killed consumer at most the item it
// was reading; no Get overstays its timeout; and at the end the queue is
// empty, and a bounded one has all its capacity back. A JoinableQueue's
// Join returns: the items of killed consumers, and those killed producers
// never wrote, are not waited for.
func TestQueueAbuse(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		maxsize  int
		joinable bool
	}{{0, false}, {20, false}, {0, true}} {
		t.Run(fmt.Sprintf("maxsize=%d/joinable=%v", tt.maxsize, tt.joinable), func(t *testing.T) {
			t.Parallel()
			testQueueAbuse(t, tt.maxsize, tt.joinable)
		})
	}
}

type abuseChild struct {
	p        *mp.Process
	producer bool
	id       int
	ctl      *mp.Conn // a producer's
}

func testQueueAbuse(t *testing.T, maxsize int, joinable bool) {
	kills := abuseKills()
	const producers, consumers = 3, 2
	var q *mp.Queue
	var jq *mp.JoinableQueue
	if joinable {
		var err error
		jq, err = mp.NewJoinableQueue(maxsize)
		require.NoError(t, err)
		t.Cleanup(func() { jq.Close() })
		q = &jq.Queue
	} else {
		q = newQueue(t, maxsize)
	}
	var (
		mu       sync.Mutex
		got      = map[[2]int]int{}
		readers  sync.WaitGroup
		children []*abuseChild
		nextID   int
	)
	spawn := func(producer bool) {
		c := &abuseChild{producer: producer, id: nextID}
		nextID++
		if producer {
			a, b, err := mp.Pipe(true)
			require.NoError(t, err)
			t.Cleanup(func() { a.Close() })
			defer b.Close()
			c.ctl = a
			c.p = mp.NewProcess(abuseProducer, q, c.id, b)
		} else {
			r, w, err := mp.Pipe(false)
			require.NoError(t, err)
			if joinable {
				c.p = mp.NewProcess(abuseJoinableConsumer, jq, w)
			} else {
				c.p = mp.NewProcess(abuseConsumer, q, w)
			}
			readers.Add(1)
			go func() {
				defer readers.Done()
				defer r.Close()
				for {
					var k [2]int
					if err := r.Recv(&k); err != nil {
						// End of file, or a frame cut by a kill.
						if err != io.EOF && !errors.Is(err, mp.ErrBadMessage) {
							t.Errorf("report: %v", err)
						}
						return
					}
					mu.Lock()
					got[k]++
					mu.Unlock()
				}
			}()
			defer w.Close()
		}
		if c.id%2 == 1 {
			c.p.StartMethod = mp.Fork
		}
		start(t, c.p)
		children = append(children, c)
	}
	for range producers {
		spawn(true)
	}
	for range consumers {
		spawn(false)
	}
	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	killed := map[int]bool{}
	consumerKills := 0
	for range kills {
		// A random instant: the children run flat out meanwhile.
		time.Sleep(time.Duration(rnd.IntN(40)) * time.Millisecond)
		// A producer or a consumer, at even odds.
		producer := rnd.IntN(2) == 0
		var alive []*abuseChild
		for _, c := range children {
			if c.producer == producer && !killed[c.id] {
				alive = append(alive, c)
			}
		}
		c := alive[rnd.IntN(len(alive))]
		require.NoError(t, c.p.Kill())
		err := c.p.JoinTimeout(time.Minute)
		var ee *mp.ExitError
		if !errors.As(err, &ee) || ee.Code >= 0 {
			// It finished before the kill landed.
			require.NoError(t, err, "child %d", c.id)
		} else {
			killed[c.id] = true
			if !c.producer {
				consumerKills++
			}
		}
		spawn(c.producer)
	}
	// The producers stop; then one pill per live consumer.
	put := map[int]int{}
	live := 0
	for _, c := range children {
		switch {
		case killed[c.id]:
		case c.producer:
			require.NoError(t, c.ctl.SendBytes([]byte("stop")))
			var k int
			require.NoError(t, c.ctl.Recv(&k))
			put[c.id] = k
			require.NoError(t, c.p.JoinTimeout(2*time.Minute), "producer %d", c.id)
		default:
			live++
		}
	}
	for range live {
		require.NoError(t, q.PutTimeout(abuseItem{P: -1}, time.Minute))
	}
	for _, c := range children {
		if !c.producer && !killed[c.id] {
			require.NoError(t, c.p.JoinTimeout(2*time.Minute), "consumer %d", c.id)
		}
	}
	readers.Wait()

	holes, lostTails := 0, 0
	perProducer := map[int][]int{}
	for k, times := range got {
		require.Equal(t, 1, times, "item %d/%d got %d times", k[0], k[1], times)
		perProducer[k[0]] = append(perProducer[k[0]], k[1])
	}
	for _, c := range children {
		if !c.producer {
			continue
		}
		seqs := perProducer[c.id]
		last, ok := put[c.id]
		if !ok {
			// Killed: what it had not written is lost; where that began
			// is unknown, so count as holes only those before the last
			// item that arrived.
			last = 0
			for _, i := range seqs {
				last = max(last, i+1)
			}
		}
		holes += last - len(seqs)
		if !ok {
			lostTails++
		}
	}
	assert.LessOrEqual(t, holes, consumerKills, "items lost other than by a killed producer or the one a killed consumer was reading")
	if joinable {
		joined := make(chan error, 1)
		go func() { joined <- jq.Join() }()
		select {
		case err := <-joined:
			require.NoError(t, err)
		case <-time.After(time.Minute):
			t.Fatal("Join waits for items that killed processes held")
		}
	}
	var it abuseItem
	assert.ErrorIs(t, q.GetNoWait(&it), mp.ErrEmpty)
	assert.Equal(t, 0, q.Qsize())
	if maxsize > 0 {
		for i := range maxsize {
			require.NoError(t, q.PutNoWait(i), "capacity restored: put %d of %d", i, maxsize)
		}
		assert.ErrorIs(t, q.PutNoWait(0), mp.ErrFull)
		for range maxsize {
			var v int
			require.NoError(t, q.GetTimeout(&v, time.Minute))
		}
	}
	t.Logf("maxsize %d, joinable %v: %d children killed (%d producers, %d consumers), %d items got, %d lost by killed consumers",
		maxsize, joinable, len(killed), lostTails, consumerKills, len(got), holes)
}
