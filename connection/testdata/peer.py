"""A Python peer of package connection's interop tests (python_test.go).

    python3 peer.py client FAMILY ADDRESS KEYHEX SIZE...
    python3 peer.py listen FAMILY KEYHEX

client connects with multiprocessing.connection.Client, receives the Go
listener's greeting, prints its own socket address as JSON, then for each
SIZE sends that many random bytes and checks that they come back reversed.
listen prints its Listener's address as JSON, accepts one connection, greets
it, sends back reversed every message until end of file, and prints
last_accepted. Either prints "auth: ..." and exits 3 if authentication fails.
"""
import json
import os
import socket
import sys
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Listener


def address_of(family, text):
    if family == "AF_INET":
        host, port = text.rsplit(":", 1)
        return (host, int(port))
    return text


def say(obj):
    print(json.dumps(obj), flush=True)


def main():
    mode, family = sys.argv[1], sys.argv[2]
    try:
        if mode == "client":
            address, key, sizes = sys.argv[3], bytes.fromhex(sys.argv[4]), sys.argv[5:]
            conn = Client(address_of(family, address), family, authkey=key)
            greeting = conn.recv_bytes()
            assert greeting == b"hello from Go", greeting
            with socket.socket(fileno=os.dup(conn.fileno())) as s:
                say({"sockname": s.getsockname()})
            for size in map(int, sizes):
                msg = os.urandom(size)
                conn.send_bytes(msg)
                back = conn.recv_bytes()
                assert back == msg[::-1], (size, len(back))
            conn.close()
            say({"ok": len(sizes)})
        else:
            key = bytes.fromhex(sys.argv[3])
            where = ("127.0.0.1", 0) if family == "AF_INET" else None
            with Listener(where, family, authkey=key) as listener:
                say({"address": listener.address})
                with listener.accept() as conn:
                    conn.send_bytes(b"hello from Python")
                    n = 0
                    while True:
                        try:
                            msg = conn.recv_bytes()
                        except EOFError:
                            break
                        conn.send_bytes(msg[::-1])
                        n += 1
                    say({"ok": n, "last_accepted": listener.last_accepted})
    except AuthenticationError as e:
        say({"auth": str(e)})
        sys.exit(3)


if __name__ == "__main__":
    main()
