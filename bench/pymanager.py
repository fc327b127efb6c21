#!/usr/bin/env python3
"""Python's figures for managers' benchmarks (BenchmarkManagerDict and
BenchmarkManagerIncrements in managers/bench_test.go), with the spawn start
method:

- dict: a child sets and gets a key of a manager's dict, pairs/s;
- increments: 8 processes each increment one key of a manager's dict n
  times, d[k] += 1 under a lock, increments/s from the moment all are
  ready until all are done; once with a multiprocessing.Lock (shared
  memory) and once with a manager's Lock.

Prints one line: "python-dict-pairs/s N increments/s M manager-lock-increments/s L",
or only the figures of one mode. By hand:

    python3 bench/pymanager.py [pairs] [increments-per-process]
    python3 bench/pymanager.py dict PAIRS
    python3 bench/pymanager.py incr INCREMENTS-PER-PROCESS
"""
import multiprocessing as mp
import sys
import time


def pairs(d, n, out):
    d["k"] = 0
    t0 = time.perf_counter()
    for i in range(n):
        d["k"] = i
        d["k"]
    out.put(time.perf_counter() - t0)


def incr(d, lock, n, ready, go):
    ready.wait()
    go.wait()
    for _ in range(n):
        with lock:
            d["n"] += 1


def increments(m, lock, procs, n):
    d = m.dict()
    d["n"] = 0
    ready, go = mp.Barrier(procs + 1), mp.Event()
    ps = [mp.Process(target=incr, args=(d, lock, n, ready, go)) for _ in range(procs)]
    for p in ps:
        p.start()
    ready.wait()
    t0 = time.perf_counter()
    go.set()
    for p in ps:
        p.join()
    dt = time.perf_counter() - t0
    assert d["n"] == procs * n, (d["n"], procs * n)
    return procs * n / dt


def dict_rate(m, n):
    d, out = m.dict(), mp.Queue()
    p = mp.Process(target=pairs, args=(d, n, out))
    p.start()
    dt = out.get()
    p.join()
    return n / dt


def main():
    args = sys.argv[1:]
    mode = args.pop(0) if args and args[0] in ("dict", "incr") else "both"
    mp.set_start_method("spawn")
    figures = []
    with mp.Manager() as m:
        if mode in ("dict", "both"):
            n = int(args.pop(0)) if args else 20_000
            figures.append(f"python-dict-pairs/s {dict_rate(m, n):.0f}")
        if mode in ("incr", "both"):
            n = int(args.pop(0)) if args else 10_000
            mplock = increments(m, mp.Lock(), 8, n)
            mgrlock = increments(m, m.Lock(), 8, n)
            figures.append(f"increments/s {mplock:.0f} manager-lock-increments/s {mgrlock:.0f}")
    print(" ".join(figures))


if __name__ == "__main__":
    main()
