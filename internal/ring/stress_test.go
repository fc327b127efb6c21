package ring

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp/internal/testchild"
)

func init() {
	helpers["producer"] = producerHelper
	helpers["consumer"] = consumerHelper
}

// validateLocked walks the ring from head to tail and checks that the
// frames, the stream state and the item count agree. q.mu is held.
func (q *Queue) validateLocked() error {
	head, tail := q.head.Load(), q.tail.Load()
	if tail < head || tail-head > q.size {
		return fmt.Errorf("head %d tail %d", head, tail)
	}
	pos := head
	if q.sReader.Load() != 0 || q.sFlags.Load()&sAbandoned != 0 {
		end := q.sREnd.Load()
		if end < head {
			return fmt.Errorf("claimed frame ends at %d before head %d", end, head)
		}
		if end > tail {
			if q.sWriter.Load() == 0 {
				return fmt.Errorf("claimed frame ends at %d after tail %d with no writer", end, tail)
			}
			return nil
		}
		pos = end
	} else if q.sFlags.Load() != 0 {
		return fmt.Errorf("flags %x with no claim", q.sFlags.Load())
	}
	items := uint64(0)
	for pos < tail {
		n, err := q.header(pos)
		if err != nil {
			return fmt.Errorf("%w (head %d tail %d sWriter %x sStart %d sEnd %d sReader %x sREnd %d flags %x)", err,
				head, tail, q.sWriter.Load(), q.sStart.Load(), q.sEnd.Load(), q.sReader.Load(), q.sREnd.Load(), q.sFlags.Load())
		}
		end := pos + frameSize(n)
		items++
		if end > tail {
			if q.sWriter.Load() == 0 || q.sStart.Load() != pos || q.sEnd.Load() != end {
				return fmt.Errorf("frame at %d ends at %d after tail %d, not the stream (%x %d %d)", pos, end, tail,
					q.sWriter.Load(), q.sStart.Load(), q.sEnd.Load())
			}
			break
		}
		pos = end
	}
	if items != q.items.Load() {
		return fmt.Errorf("%d frames, items says %d", items, q.items.Load())
	}
	return nil
}

// producerHelper puts messages of random sizes until killed.
func producerHelper(f *os.File, a []string) error {
	q, n, err := attachArgs(f, a)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(uint64(n[0]), 3))
	for i := n[0] * 1_000_000; ; i++ {
		size := 12 + r.IntN(2000)
		switch r.IntN(20) {
		case 0:
			size = 12 + r.IntN(300000)
		case 1, 2:
			size = 12 + r.IntN(40000)
		}
		if err := q.Put(bg, msg(i, size), time.Time{}); err != nil {
			return err
		}
		if r.IntN(50) == 0 {
			// Let the feeder drain now and then.
			q.feed.wait()
		}
	}
}

// consumerHelper gets until killed, checking each message and each
// timeout.
func consumerHelper(f *os.File, a []string) error {
	q, _, err := attachArgs(f, a)
	if err != nil {
		return err
	}
	for {
		t0 := time.Now()
		b, err := q.Get(bg, time.Now().Add(20*time.Millisecond))
		if d := time.Since(t0); d > 15*time.Second {
			return fmt.Errorf("Get with a 20 ms timeout took %v", d)
		}
		if errors.Is(err, ErrEmpty) {
			continue
		}
		if err != nil {
			return err
		}
		if _, err := check(b); err != nil {
			return err
		}
	}
}

// TestStress kills producers and consumers at random and checks the ring's
// structure after each kill.
func TestStress(t *testing.T) {
	t.Parallel()
	kills := 30
	if os.Getenv("MP_SOAK") != "" {
		kills = 500
	}
	q := newRing(t, Options{Ring: 64 << 10})
	f, _ := q.File()
	type child struct {
		cmd      *exec.Cmd
		producer bool
	}
	var kids []child
	next := 1
	spawn := func(producer bool) {
		name := "consumer"
		if producer {
			name = "producer"
		}
		kids = append(kids, child{testchild.Start(t, name, f, args(q, next)...), producer})
		next++
	}
	for range 3 {
		spawn(true)
		spawn(false)
	}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	for k := range kills {
		time.Sleep(time.Duration(r.IntN(30)) * time.Millisecond)
		i := r.IntN(len(kids))
		c := kids[i]
		require.NoError(t, c.cmd.Process.Kill())
		err := c.cmd.Wait()
		var ee *exec.ExitError
		// On Windows a killed process exits with code 1, as one that fails.
		require.True(t, errors.As(err, &ee) && (!ee.Exited() || runtime.GOOS == "windows"),
			"kill %d: child exited by itself: %v", k, err)
		require.NoError(t, q.lock(bg, time.Now().Add(5*time.Second)), "kill %d", k)
		err = q.validateLocked()
		q.mu.Unlock()
		require.NoError(t, err, "kill %d", k)
		kids = append(kids[:i], kids[i+1:]...)
		spawn(c.producer)
	}
}
