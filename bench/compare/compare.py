"""Python's side of bench/compare: the same work as the Go side, measured
the same way, one sample per request.

The Go program starts this script once and sends it requests on standard
input, one JSON object a line ({"fig": NAME, ...arguments}); it answers
each with one JSON line: {"value": NUMBER} (seconds, a rate per second, or
a PID, as the figure says) or {"error": TEXT}. Standard output carries
nothing else: children print nothing.
"""
import json
import multiprocessing as mp
import sys
import time


def noop():
    pass


def echo(conn):
    """Echo messages until an empty one."""
    while True:
        m = conn.recv_bytes()
        if not m:
            return
        conn.send_bytes(m)


def sink(conn, size, count):
    """Take count messages of size bytes into one buffer, then acknowledge."""
    buf = bytearray(size)
    conn.send_bytes(b"r")
    while True:
        for _ in range(count):
            conn.recv_bytes_into(buf)
        conn.send_bytes(b"k")
        if conn.recv_bytes() != b"again":
            return


def consume(q, done, n):
    done.put("ready")
    for _ in range(n):
        q.get()
    done.put("done")


def idle(conn):
    conn.send_bytes(b"up")
    conn.recv_bytes()


def startjoin(method):
    ctx = mp.get_context(method)
    t0 = time.perf_counter()
    p = ctx.Process(target=noop)
    p.start()
    p.join()
    return time.perf_counter() - t0


def together(method, n):
    ctx = mp.get_context(method)
    ps = [ctx.Process(target=noop) for _ in range(n)]
    t0 = time.perf_counter()
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    return time.perf_counter() - t0


def pipe_roundtrip(size, n):
    a, b = mp.Pipe()
    p = mp.Process(target=echo, args=(b,))
    p.start()
    msg = b"x" * size
    for _ in range(100):  # warm up
        a.send_bytes(msg)
        a.recv_bytes()
    t0 = time.perf_counter()
    for _ in range(n):
        a.send_bytes(msg)
        a.recv_bytes()
    dt = time.perf_counter() - t0
    a.send_bytes(b"")
    p.join()
    return n / dt


def pipe_bulk(size, count):
    a, b = mp.Pipe()
    p = mp.Process(target=sink, args=(b, size, count))
    p.start()
    a.recv_bytes()
    msg = b"x" * size
    for _ in range(count):  # warm up
        a.send_bytes(msg)
    a.recv_bytes()
    a.send_bytes(b"again")
    t0 = time.perf_counter()
    for _ in range(count):
        a.send_bytes(msg)
    a.recv_bytes()
    dt = time.perf_counter() - t0
    a.send_bytes(b"stop")
    p.join()
    return size * count / dt


def queue_items(n):
    q, done = mp.Queue(), mp.Queue()
    p = mp.Process(target=consume, args=(q, done, n))
    p.start()
    done.get()
    t0 = time.perf_counter()
    for i in range(n):
        q.put((i, "hello"))
    done.get()
    dt = time.perf_counter() - t0
    p.join()
    return n / dt


def sqr(x):
    return x * x


def pool_map(n):
    """Map of n tiny tasks on a pool of cpu_count() workers made beforehand
    (fork, as bench/pypool.py; auto chunksize)."""
    ctx = mp.get_context("fork")
    items = range(n)
    with ctx.Pool(mp.cpu_count()) as p:
        p.map(sqr, range(100))  # warm up
        t0 = time.perf_counter()
        p.map(sqr, items)
        dt = time.perf_counter() - t0
    return n / dt


def pool_lifecycle(method, procs, n):
    ctx = mp.get_context(method)
    t0 = time.perf_counter()
    p = ctx.Pool(procs)
    p.map(sqr, range(n))
    p.close()
    p.join()
    return time.perf_counter() - t0


def _timed(target, argsets):
    """Start a child of target for each argument tuple and time them from a
    start signal until each has said it is done, as the Go side does."""
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


def handoff_worker(me, n, lock, turn, ready, start, done):
    ready.release()
    start.wait()
    taken, other = 0, 1 - me
    while taken < n:
        with lock:
            if turn.value == me:
                turn.value = other
                taken += 1
    done.release()


def lock_handoffs(n):
    lock, turn = mp.Lock(), mp.Value("i", 0, lock=False)
    return 2 * n / _timed(handoff_worker, [(0, n, lock, turn), (1, n, lock, turn)])


def increment_worker(v, n, ready, start, done):
    ready.release()
    start.wait()
    for _ in range(n):
        with v.get_lock():
            v.value += 1
    done.release()


def value_increments(procs, n):
    v = mp.Value("q", 0)
    dt = _timed(increment_worker, [(v, n)] * procs)
    if v.value != procs * n:
        raise ValueError(f"the increments add up to {v.value}, not {procs * n}")
    return procs * n / dt


_idle = {}


def idle_start(method):
    ctx = mp.get_context(method)
    a, b = ctx.Pipe()
    p = ctx.Process(target=idle, args=(b,))
    p.start()
    a.recv_bytes()
    _idle["p"], _idle["conn"] = p, a
    return p.pid


def idle_stop():
    p, a = _idle.pop("p"), _idle.pop("conn")
    a.send_bytes(b"bye")
    p.join()
    return 0


FIGURES = {
    "startjoin": startjoin,
    "together": together,
    "pipe_roundtrip": pipe_roundtrip,
    "pipe_bulk": pipe_bulk,
    "queue_items": queue_items,
    "pool_map": pool_map,
    "pool_lifecycle": pool_lifecycle,
    "lock_handoffs": lock_handoffs,
    "value_increments": value_increments,
    "idle_start": idle_start,
    "idle_stop": idle_stop,
}


def serve():
    for line in sys.stdin:
        req = json.loads(line)
        name = req.pop("fig")
        try:
            out = {"value": FIGURES[name](**req)}
        except Exception as e:  # reported, not fatal: the next request may work
            out = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
