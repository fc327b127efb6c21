package tutorial

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-mp/mp"
)

// SyncConfig sizes the synchronisation step.
type SyncConfig struct {
	Workers    int // processes in each part
	Increments int // increments of the shared counter by each worker
	Rounds     int // rounds in lockstep at the barrier
}

// Sync shows processes that coordinate, as Python's multiprocessing.Lock,
// Event and Barrier do: workers add to a counter kept in a file, each
// read-add-write under an mp.Lock (without it, updates are lost); workers
// run until an mp.Event tells them to stop; workers go through rounds in
// lockstep at an mp.Barrier.
func Sync(cfg SyncConfig) error {
	if err := counter(cfg); err != nil {
		return err
	}
	if err := stopByEvent(cfg); err != nil {
		return err
	}
	return lockstep(cfg)
}

// counter: Workers processes each add 1 to the number in a file
// Increments times, under a Lock.
func counter(cfg SyncConfig) error {
	dir, err := os.MkdirTemp("", "mp-sync-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "counter")
	if err := os.WriteFile(path, []byte("0"), 0o600); err != nil {
		return err
	}
	lock, err := mp.NewLock()
	if err != nil {
		return err
	}
	defer lock.Close()
	var ps []*mp.Process
	for range cfg.Workers {
		p := mp.NewProcess(addUnderLock, lock, path, cfg.Increments)
		if err := p.Start(); err != nil {
			return err
		}
		ps = append(ps, p)
	}
	if err := joinAll(ps); err != nil {
		return err
	}
	n, err := readCounter(path)
	if err != nil {
		return err
	}
	say("main: %d workers x %d increments under the lock: the counter is %d", cfg.Workers, cfg.Increments, n)
	return nil
}

// addUnderLock adds 1 to the counter in the file n times, each time under
// the lock: read, add, write back.
func addUnderLock(lock *mp.Lock, path string, n int) error {
	for range n {
		if err := lock.Acquire(); err != nil {
			return err
		}
		v, err := readCounter(path)
		if err == nil {
			err = os.WriteFile(path, []byte(strconv.Itoa(v+1)), 0o600)
		}
		if rerr := lock.Release(); err == nil {
			err = rerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func readCounter(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// stopByEvent: workers run until an Event is set; each says how many
// rounds it ran.
func stopByEvent(cfg SyncConfig) error {
	stop, err := mp.NewEvent()
	if err != nil {
		return err
	}
	defer stop.Close()
	// Each worker releases a unit once it is running: the parent waits for
	// them all before it stops them.
	running, err := mp.NewSemaphore(0)
	if err != nil {
		return err
	}
	defer running.Close()
	var ps []*mp.Process
	for range cfg.Workers {
		p := mp.NewProcess(workUntilStopped, stop, running)
		if err := p.Start(); err != nil {
			return err
		}
		ps = append(ps, p)
	}
	for range cfg.Workers {
		if err := running.Acquire(); err != nil {
			return err
		}
	}
	say("main: all %d workers are running; setting the stop event", cfg.Workers)
	if err := stop.Set(); err != nil {
		return err
	}
	if err := joinAll(ps); err != nil {
		return err
	}
	say("main: every worker stopped")
	return nil
}

// workUntilStopped works in rounds until stop is set: a round's work is a
// wait for the event of up to 5 ms, which ends at once when it is set (a
// worker that checked in a tight loop would take a CPU from the others).
func workUntilStopped(stop *mp.Event, running *mp.Semaphore) error {
	rounds := 0
	for {
		set, err := stop.WaitTimeout(5 * time.Millisecond)
		if err != nil {
			return err
		}
		if set {
			break
		}
		rounds++
		if rounds == 1 {
			if err := running.Release(); err != nil {
				return err
			}
		}
	}
	say("%s: stopped by the event after %d rounds", mp.CurrentProcess().Name, rounds)
	return nil
}

// lockstep: workers go through rounds together: none starts a round before
// all have finished the one before.
func lockstep(cfg SyncConfig) error {
	b, err := mp.NewBarrier(cfg.Workers)
	if err != nil {
		return err
	}
	defer b.Close()
	// A semaphore used as a shared counter: each worker adds one at the
	// end of each round.
	finished, err := mp.NewSemaphore(0)
	if err != nil {
		return err
	}
	defer finished.Close()
	var ps []*mp.Process
	for range cfg.Workers {
		p := mp.NewProcess(inLockstep, b, finished, cfg.Rounds)
		if err := p.Start(); err != nil {
			return err
		}
		ps = append(ps, p)
	}
	if err := joinAll(ps); err != nil {
		return err
	}
	say("main: %d workers did %d rounds in lockstep", cfg.Workers, cfg.Rounds)
	return nil
}

// inLockstep does rounds and waits at the barrier after each. Past the
// barrier, every worker has finished the round; the worker that arrived
// there first says so.
func inLockstep(b *mp.Barrier, finished *mp.Semaphore, rounds int) error {
	for r := 1; r <= rounds; r++ {
		if err := finished.Release(); err != nil { // the round's work is done
			return err
		}
		i, err := b.Wait()
		if err != nil {
			return fmt.Errorf("round %d: %w", r, err)
		}
		if n := finished.Value(); n < r*b.Parties() {
			return fmt.Errorf("round %d: past the barrier with only %d rounds finished", r, n)
		}
		if i == 0 {
			say("round %d: all %d workers passed the barrier", r, b.Parties())
		}
	}
	return nil
}

// joinAll joins every process, returning the first error.
func joinAll(ps []*mp.Process) error {
	var first error
	for _, p := range ps {
		if err := p.Join(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
