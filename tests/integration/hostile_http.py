#!/usr/bin/env python3
"""Hostile HTTP endpoints for tests/integration/scan.sh (issue 13, item 3): each mode listens on
its own loopback port and answers every connection (plain probes and TLS ClientHellos alike) in
one way that a lenient scanner could read as etcd's API while a strict parser cannot.

usage: hostile_http.py HOST DELAY MODE...   prints "MODE PORT" per mode, then "ready", and serves
until killed. DELAY is the seconds the 'delayed' mode waits before answering.
"""
import socket
import sys
import threading
import time

ETCD = b'{"action":"get","node":{"dir":true,"nodes":[{"key":"/secret","value":"x"}]}}'


def head(status, *fields):
    return ("HTTP/1.1 %s\r\n" % status).encode() + b"".join(f.encode() + b"\r\n" for f in fields) + b"\r\n"


def modes(delay):
    return {
        # etcd's JSON, but only after the probe's timeout
        "delayed": (delay, head("200 OK", "Content-Type: application/json",
                                "Content-Length: %d" % len(ETCD)) + ETCD),
        # two Content-Length headers: one reader sees an empty 404, another etcd's JSON
        "dup-length": (0, head("404 Not Found", "Content-Length: 0",
                               "Content-Length: %d" % len(ETCD)) + ETCD),
        # obsolete line folding: the content type continues on the next line
        "folded": (0, head("404 Not Found", "Content-Type: text/plain",
                           " application/json", "Content-Length: %d" % len(ETCD)) + ETCD),
        # no status line at all (HTTP/0.9 style): only the body
        "no-status": (0, ETCD + b"\n"),
        # the answer stops before its Content-Length
        "cut": (0, head("404 Not Found", "Content-Length: 500") + b"not fo"),
        # a whole, well-formed answer that is not etcd's
        "not-etcd": (0, head("404 Not Found", "Content-Type: text/plain",
                             "Content-Length: 10") + b"not found\n"),
        # one byte every 2 s, for ever
        "drip": (0, None),
    }


def read_request(c):
    c.settimeout(1.0)
    data = b""
    try:
        while b"\r\n\r\n" not in data and len(data) < 65536:
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
            if data[:1] == b"\x16":  # a TLS ClientHello has no blank line: one read is it
                break
    except OSError:
        pass


def serve_one(c, mode, wait, answer):
    try:
        read_request(c)
        if mode == "drip":
            line = b"HTTP/1.1 200 OK\r\nX-Drip: " + b"a" * 100000
            for i in range(len(line)):
                c.sendall(line[i:i + 1])
                time.sleep(2)
            return
        if wait:
            time.sleep(wait)
        c.sendall(answer)
        c.shutdown(socket.SHUT_WR)
        time.sleep(0.5)  # let the client read before the close (no reset)
    except OSError:
        pass
    finally:
        c.close()


def listen(host, mode, wait, answer):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, 0))
    s.listen(64)

    def loop():
        while True:
            c, _ = s.accept()
            threading.Thread(target=serve_one, args=(c, mode, wait, answer), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return s.getsockname()[1]


def main():
    host, delay, wanted = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
    table = modes(delay)
    for m in wanted:
        wait, answer = table[m]
        print(m, listen(host, m, wait, answer), flush=True)
    print("ready", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
