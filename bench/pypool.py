#!/usr/bin/env python3
"""Python's figures for the Pool benchmarks (bench_pool_test.go).

The benchmarks start this script and alternate with it, one iteration each,
so that a noisy machine slows both alike: for each line read on stdin it
runs one iteration and prints its time in seconds; end of input ends it.

    map        Pool(cpu_count()).map(sqr, range(100_000)), auto chunksize,
               on a pool made once (fork)
    lifecycle  fork: Pool(4), map(sqr, range(10)), close(), join()
    imap TASKS imap_unordered of TASKS tasks of 1 ms of CPU (its loop
               calibrated here) on Pool(cpu_count()); prints the time over
               the ideal, TASKS * 1 ms / cpu_count()

By hand, with the medians printed at the end:

    yes | head -20 | python3 bench/pypool.py map
"""
import multiprocessing as mp
import os
import statistics
import sys
import time


def sqr(x):
    return x * x


def burn(n):
    # The same loop as the Go benchmark's burn.
    x = 0
    for i in range(n):
        x = (x * 31 + i) & 0xFFFFFFFF
    return x


def serve(step):
    times = []
    for _ in sys.stdin:
        dt = step()
        times.append(dt)
        print(f"{dt:.6f}", flush=True)
    if sys.stdout.isatty() and times:
        print(f"median {statistics.median(times):.6f}", file=sys.stderr)


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "map"
    ctx = mp.get_context("fork")
    if what == "map":
        items = range(100_000)
        with ctx.Pool(os.cpu_count()) as p:
            p.map(sqr, range(100))  # warm

            def step():
                t0 = time.perf_counter()
                p.map(sqr, items)
                return time.perf_counter() - t0

            serve(step)
    elif what == "lifecycle":

        def step():
            t0 = time.perf_counter()
            p = ctx.Pool(4)
            p.map(sqr, range(10))
            p.close()
            p.join()
            return time.perf_counter() - t0

        serve(step)
    elif what == "imap":
        tasks = int(sys.argv[2])
        n = os.cpu_count()
        samples = []
        for _ in range(21):
            t0 = time.perf_counter()
            burn(1000)
            samples.append(time.perf_counter() - t0)
        iters = max(1, int(0.001 / (statistics.median(samples) / 1000)))
        with ctx.Pool(n) as p:

            def step():
                t0 = time.perf_counter()
                for _ in p.imap_unordered(burn, [iters] * tasks):
                    pass
                return (time.perf_counter() - t0) / (tasks * 0.001 / n)

            serve(step)
    else:
        sys.exit(f"unknown benchmark {what!r}")


if __name__ == "__main__":
    main()
