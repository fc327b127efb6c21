"""Python's multiprocessing start+join of a no-op target, for comparison
with BenchmarkStartJoin (run both in the same minute on the same machine):

    python3 bench/python_startjoin.py
    go test -run '^$' -bench StartJoin -benchtime 300x -count 3 .
"""
import multiprocessing as mp
import statistics
import time


def noop():
    pass


if __name__ == "__main__":
    for method, n in (("fork", 300), ("spawn", 30)):
        ctx = mp.get_context(method)
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            p = ctx.Process(target=noop)
            p.start()
            p.join()
            times.append(time.perf_counter() - t0)
        print(f"python {method}: start+join median {statistics.median(times) * 1e3:.2f} ms over {n}")
