#!/usr/bin/env python3
"""Python's figure for BenchmarkValueAdd (bench_shared_test.go), measured the
same way as mp's: the median of three runs, each timed from a start signal (an
Event the parent sets once every child is ready) until every child has said
it is done (a Semaphore), so that starting processes is not counted.

    python3 bench/pyshared.py counter [n] [p]   seconds for p processes x n increments

It prints one line: the mode and the figure. p processes each add 1 to a
shared Value('q') (a 64-bit integer, with its default RLock) n times, the way
Python's documentation says to: `with v.get_lock(): v.value += 1` (a plain
`v.value += 1` loses updates).
"""
import multiprocessing as mp
import statistics
import sys

from pysync import timed  # the same timing as BenchmarkLock's Python figures


def counter_worker(v, n, ready, start, done):
    ready.release()
    start.wait()
    lock = v.get_lock()
    for _ in range(n):
        with lock:
            v.value += 1
    done.release()


def counter(n, procs):
    v = mp.Value("q", 0)
    dt = timed(counter_worker, [(v, n)] * procs)
    if v.value != n * procs:
        raise SystemExit(f"counter {v.value}, want {n * procs}")
    return dt


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "counter"
    args = [int(a) for a in sys.argv[2:]]
    if mode == "counter":
        f = lambda: counter(*(args + [100_000, 4][len(args):]))
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(mode, statistics.median(f() for _ in range(3)))


if __name__ == "__main__":
    main()
