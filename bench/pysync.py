#!/usr/bin/env python3
"""Python's figures for BenchmarkLock (bench_sync_test.go), measured the same
way as mp's: each figure is the median of three runs, timed from a start
signal (an Event the parent sets once every child is ready) until every
child has said it is done (a Semaphore), so that starting processes is not
counted.

    python3 bench/pysync.py uncontended [n]   ns per acquire+release
    python3 bench/pysync.py handoff [n]       hand-offs per second
    python3 bench/pysync.py counter [n] [p]   seconds for p processes x n increments

Each prints one line: the mode and the figure. handoff: two processes take
turns through a multiprocessing.Lock: each loops acquire, take the turn if it
is its own (pass it to the other, count one), release, until it has taken n
turns; a hand-off is one turn taken. (Python hands off a few hundred times a
second: its waiter sleeps while the releaser takes the lock again, so n is
small by default.) counter: p processes each add 1 to a
shared int n times, each time under the Lock (Value('i', lock=False), as the
counter word lives beside mp's Lock in its benchmark).
"""
import multiprocessing as mp
import statistics
import sys
import time


def uncontended(n):
    lock = mp.Lock()
    acquire, release = lock.acquire, lock.release
    t0 = time.perf_counter()
    for _ in range(n):
        acquire()
        release()
    return (time.perf_counter() - t0) / n * 1e9


def handoff_worker(me, lock, turn, n, ready, start, done):
    ready.release()
    start.wait()
    taken = 0
    other = 1 - me
    while taken < n:
        with lock:
            if turn.value == me:
                turn.value = other
                taken += 1
    done.release()


def counter_worker(lock, counter, n, ready, start, done):
    ready.release()
    start.wait()
    for _ in range(n):
        with lock:
            counter.value += 1
    done.release()


def timed(target, argsets):
    ready, done, start = mp.Semaphore(0), mp.Semaphore(0), mp.Event()
    ps = [mp.Process(target=target, args=a + (ready, start, done)) for a in argsets]
    for p in ps:
        p.start()
    for _ in ps:
        ready.acquire()
    t0 = time.perf_counter()
    start.set()
    for _ in ps:
        done.acquire()
    dt = time.perf_counter() - t0
    for p in ps:
        p.join()
    return dt


def handoff(n):
    lock, turn = mp.Lock(), mp.Value("i", 0, lock=False)
    dt = timed(handoff_worker, [(0, lock, turn, n), (1, lock, turn, n)])
    return 2 * n / dt


def counter(n, procs):
    lock, c = mp.Lock(), mp.Value("i", 0, lock=False)
    dt = timed(counter_worker, [(lock, c, n)] * procs)
    if c.value != n * procs:
        raise SystemExit(f"counter {c.value}, want {n * procs}")
    return dt


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "uncontended"
    args = [int(a) for a in sys.argv[2:]]
    if mode == "uncontended":
        f = lambda: uncontended(*(args or [1_000_000]))
    elif mode == "handoff":
        f = lambda: handoff(*(args or [500]))
    elif mode == "counter":
        f = lambda: counter(*(args + [100_000, 4][len(args):]))
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(mode, statistics.median(f() for _ in range(3)))


if __name__ == "__main__":
    main()
