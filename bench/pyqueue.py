#!/usr/bin/env python3
"""Python's figure for BenchmarkQueue: one-way small messages (an int and a
short string) from the parent to a child through multiprocessing.Queue.

Prints one line: "python-queue-msgs/s N put-only M". BenchmarkQueue runs it when
python3 is present and reports both figures; by hand:

    python3 bench/pyqueue.py [messages]
"""
import multiprocessing as mp
import sys
import time


def consume(q, done, n):
    done.put("ready")
    for _ in range(n):
        q.get()
    done.put("done")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    mp.set_start_method("spawn")
    q, done = mp.Queue(), mp.Queue()
    p = mp.Process(target=consume, args=(q, done, n))
    p.start()
    done.get()  # the child is up
    t0 = time.perf_counter()
    for i in range(n):
        q.put((i, "hello"))
    tput = time.perf_counter() - t0
    done.get()  # the child has got them all
    dt = time.perf_counter() - t0
    p.join()
    # The first figure is the benchmark's: until the child has got them
    # all. The second counts only the parent's puts, which return once the
    # item is in the feeder's buffer.
    print(f"python-queue-msgs/s {n / dt:.0f} put-only {n / tput:.0f}")


if __name__ == "__main__":
    main()
