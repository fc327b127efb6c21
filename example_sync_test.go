package mp_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/go-mp/mp"
)

func init() { ipcTargets = append(ipcTargets, addTen, holdAndDie, waitAtBarrier) }

// addTen adds 1 ten times to the number on the queue, under the lock.
func addTen(l *mp.Lock, box *mp.Queue) error {
	for range 10 {
		if err := l.Acquire(); err != nil {
			return err
		}
		var n int
		err := box.Get(&n)
		if err == nil {
			err = box.Put(n + 1)
		}
		if rerr := l.Release(); err == nil {
			err = rerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Four processes update a number kept in a queue, each read and write under
// a Lock, so that no update is lost.
func ExampleLock() {
	l, _ := mp.NewLock()
	defer l.Close()
	box, _ := mp.NewQueue(1)
	defer box.Close()
	_ = box.Put(0)
	var ps []*mp.Process
	for range 4 {
		p := mp.NewProcess(addTen, l, box)
		_ = p.Start()
		ps = append(ps, p)
	}
	for _, p := range ps {
		_ = p.Join()
	}
	var n int
	_ = box.Get(&n)
	fmt.Println(n)
	// Output: 40
}

// holdAndDie takes the lock and is killed holding it.
func holdAndDie(l *mp.Lock, held *mp.Event) error {
	if err := l.Acquire(); err != nil {
		return err
	}
	if err := held.Set(); err != nil {
		return err
	}
	time.Sleep(time.Hour)
	return nil
}

// A process killed while it holds a Lock does not keep it: the next
// Acquire takes it over and says so.
func ExampleErrOwnerDead() {
	l, _ := mp.NewLock()
	defer l.Close()
	held, _ := mp.NewEvent()
	defer held.Close()
	p := mp.NewProcess(holdAndDie, l, held)
	_ = p.Start()
	_ = held.Wait()
	_ = p.Kill()
	err := l.Acquire()
	fmt.Println(errors.Is(err, mp.ErrOwnerDead), l.Locked())
	_ = l.Release()
	_ = p.Join()
	// Output: true true
}

func ExampleSemaphore() {
	s, _ := mp.NewBoundedSemaphore(2)
	defer s.Close()
	_ = s.Acquire()
	fmt.Println("free:", s.Value())
	ok, _ := s.AcquireTimeout(0)
	fmt.Println("second:", ok)
	ok, _ = s.AcquireTimeout(0)
	fmt.Println("third:", ok)
	_ = s.Release()
	_ = s.Release()
	fmt.Println(s.Release())
	// Output:
	// free: 1
	// second: true
	// third: false
	// mp: lock or semaphore released too many times
}

// waitAtBarrier waits at the barrier.
func waitAtBarrier(b *mp.Barrier) error {
	_, err := b.Wait()
	return err
}

// Three children and this process meet at a Barrier: each Wait returns
// once all four wait.
func ExampleBarrier() {
	b, _ := mp.NewBarrier(4)
	defer b.Close()
	var ps []*mp.Process
	for range 3 {
		p := mp.NewProcess(waitAtBarrier, b)
		_ = p.Start()
		ps = append(ps, p)
	}
	_, err := b.Wait()
	fmt.Println("all here:", err == nil)
	for _, p := range ps {
		_ = p.Join()
	}
	fmt.Println("waiting now:", b.NWaiting())
	// Output:
	// all here: true
	// waiting now: 0
}

// An Event set by a child ends the parent's wait.
func ExampleEvent() {
	e, _ := mp.NewEvent()
	defer e.Close()
	p := mp.NewProcess(setEvent, e)
	_ = p.Start()
	_ = e.Wait()
	fmt.Println(e.IsSet())
	_ = p.Join()
	// Output: true
}
