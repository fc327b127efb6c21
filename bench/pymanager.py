#!/usr/bin/env python3
"""Python's figures for managers' benchmarks (BenchmarkManagerDict and
BenchmarkManagerIncrements in managers/bench_test.go), with the spawn start
method:

- dict: a child sets and gets a key of a manager's dict, pairs/s;
- increments: 8 processes each increment one key of a manager's dict n
  times, d[k] += 1 under a lock, increments/s from the moment all are
  ready until all are done; once with a multiprocessing.Lock (shared
  memory) and once with a manager's Lock.

Prints one line: "python-dict-pairs/s N increments/s M manager-lock-increments/s L".
By hand:

    python3 bench/pymanager.py [pairs] [increments-per-process]
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


def main():
    npairs = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    nincr = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    mp.set_start_method("spawn")
    with mp.Manager() as m:
        d, out = m.dict(), mp.Queue()
        p = mp.Process(target=pairs, args=(d, npairs, out))
        p.start()
        dt = out.get()
        p.join()
        dict_rate = npairs / dt
        mplock = increments(m, mp.Lock(), 8, nincr)
        mgrlock = increments(m, m.Lock(), 8, nincr)
    print(f"python-dict-pairs/s {dict_rate:.0f} increments/s {mplock:.0f} manager-lock-increments/s {mgrlock:.0f}")


if __name__ == "__main__":
    main()
