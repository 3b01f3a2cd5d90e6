"""A server that misbehaves on purpose, one way per `--mode`: the suite must never be its victim.

    python tests/servers/hostile_server.py --mode MODE --port PORT [--first-ok]

`--first-ok`: the first request is answered as `ok` does (the suite's preflight
create), so a run gets past the door and meets the mode on every later request;
without it a mode that is not the API from the first answer is stopped there.

Raw sockets and threads, no framework: each mode is a few lines that do
exactly one hostile thing. Prints `ready` once it listens.

    ok               a valid 201 to every request (the baseline)
    drip-headers     a status line, then one header byte a second, forever
    drip-body        headers announcing 1 MB, then one body byte every 0.3 s
    continue-forever `100 Continue` every 50 ms, never a final answer
    chunked-forever  an endless chunked body, as fast as the client reads
    huge-json        a 2 GiB JSON answer (Content-Length), as fast as the client reads
    gzip-bomb        1 GiB of zeros gzip-compressed (about 1 MiB), though the client asked for identity
    deep-brackets    1 MiB of `[`, announced as JSON
    escaped-quotes-1mb
                     a 201 whose body is 1 MB of `\\"` pairs inside a JSON string never closed
    million-digit-number
                     a valid 201 whose `metadata` holds a number of 1,000,000 digits (under the read cap)
    echo-auth        the Authorization header echoed in the body (JSON-escaped) and in a header
    echo-query       the request target (query string included) echoed in the body and a header
    echo-base64      the Authorization header, base64-encoded again, in the body
    retry-after-sup2 503 with `Retry-After: ²` (a digit float() refuses)
    crash-mid-run    valid 201s for the first 40 requests, then the process exits
    early-close      431 for headers past 16 KiB, 413 for bodies past 64 KiB, 401 without a key:
                     answered before the request is read, then the socket is closed
    refuse-key       401 to everything
    no-prefix        404 to every path that does not start with /v1/
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import socket
import threading
import time
import zlib
from datetime import UTC, datetime
from itertools import count

HEADER_LIMIT = 16 << 10
BODY_LIMIT = 64 << 10
CRASH_AFTER = 40
ESCAPED_QUOTES = b'{"name": "' + b'\\"' * 500_000  # 1 MB, the string never closed
# Spliced in as text: json.dumps refuses an int of more than 4,300 digits.
MILLION_DIGITS = b'"metadata": {"n": ' + b"9" * 1_000_000 + b"}"

TOO_LARGE_431 = b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
CREATED_JSON = b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"

_served = count(1)
_lock = threading.Lock()


def customer(email: str = "a@example.com", name: object = None) -> bytes:
    now = datetime.now(UTC).isoformat()
    return json.dumps(
        {
            "id": f"cus_{os.urandom(12).hex()}",
            "object": "customer",
            "email": email,
            "name": name,
            "external_id": None,
            "metadata": {},
            "environment": "sandbox",
            "org_id": "org_hostile",
            "created_at": now,
            "updated_at": now,
        }
    ).encode()


def answer(status: str, body: bytes, headers: tuple[tuple[str, str], ...] = ()) -> bytes:
    lines = [f"HTTP/1.1 {status}", "Content-Type: application/json", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def read_head(conn: socket.socket, limit: int = 1 << 20) -> tuple[bytes, bytes] | None:
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > limit:
            return data, b""
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def header(head: bytes, name: bytes) -> bytes | None:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return None


def read_body(conn: socket.socket, head: bytes, rest: bytes) -> None:
    length = int(header(head, b"content-length") or b"0")
    if header(head, b"transfer-encoding"):
        while not rest.endswith(b"0\r\n\r\n"):
            chunk = conn.recv(65536)
            if not chunk:
                return
            rest += chunk
        return
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return
        rest += chunk


def forever(conn: socket.socket, piece: bytes, pause: float = 0.0) -> None:
    while True:
        conn.sendall(piece)
        if pause:
            time.sleep(pause)


def early_close(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk
        if len(data) > HEADER_LIMIT and b"\r\n\r\n" not in data[:HEADER_LIMIT]:
            conn.sendall(TOO_LARGE_431)
            return  # closed with the rest unread: the kernel answers the client's next bytes with a reset
    head, _, rest = data.partition(b"\r\n\r\n")
    if not header(head, b"authorization"):
        conn.sendall(answer("401 Unauthorized", b'{"title": "Unauthorized"}', (("Connection", "close"),)))
        return
    length = int(header(head, b"content-length") or b"0")
    if length > BODY_LIMIT or header(head, b"transfer-encoding"):
        conn.sendall(answer("413 Content Too Large", b'{"title": "Too large"}', (("Connection", "close"),)))
        return
    read_body(conn, head, rest)
    conn.sendall(answer("400 Bad Request", b'{"title": "Bad"}', (("Connection", "close"),)))


def serve(conn: socket.socket, mode: str, bomb: bytes, first_ok: bool = False) -> None:
    if mode == "early-close":
        early_close(conn)
        return
    while True:
        got = read_head(conn)
        if got is None:
            return
        head, rest = got
        read_body(conn, head, rest)
        with _lock:
            number = next(_served)
        target = head.split(b"\r\n")[0].split(b" ")[1].decode("latin-1") if b" " in head else "/"
        auth = (header(head, b"authorization") or b"").decode("latin-1")
        if mode == "ok" or (first_ok and number == 1):
            conn.sendall(answer("201 Created", customer()))
        elif mode == "drip-headers":
            conn.sendall(b"HTTP/1.1 201 Created\r\n")
            forever(conn, b"X", 1.0)
        elif mode == "drip-body":
            conn.sendall(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n")
            forever(conn, b" ", 0.3)
        elif mode == "continue-forever":
            forever(conn, b"HTTP/1.1 100 Continue\r\n\r\n", 0.05)
        elif mode == "chunked-forever":
            conn.sendall(CREATED_JSON + b"Transfer-Encoding: chunked\r\n\r\n")
            forever(conn, b"10000\r\n" + b"[" * 0x10000 + b"\r\n")
        elif mode == "huge-json":
            conn.sendall(CREATED_JSON + b'Content-Length: 2147483648\r\n\r\n{"a": "')
            forever(conn, b"x" * 65536)
        elif mode == "gzip-bomb":
            conn.sendall(
                b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                + f"Content-Length: {len(bomb)}\r\n\r\n".encode()
                + bomb
            )
        elif mode == "deep-brackets":
            conn.sendall(answer("201 Created", b"[" * (1 << 20)))
        elif mode == "escaped-quotes-1mb":
            conn.sendall(answer("201 Created", ESCAPED_QUOTES))
        elif mode == "million-digit-number":
            conn.sendall(answer("201 Created", customer().replace(b'"metadata": {}', MILLION_DIGITS)))
        elif mode == "echo-auth":
            conn.sendall(answer("201 Created", customer(name=f"you sent {auth}"), (("X-Echo", auth),)))
        elif mode == "echo-query":
            conn.sendall(answer("400 Bad Request", json.dumps({"detail": target}).encode(), (("X-Target", target),)))
        elif mode == "echo-base64":
            again = base64.b64encode(auth.encode("latin-1")).decode()
            conn.sendall(answer("201 Created", customer(name=again)))
        elif mode == "retry-after-sup2":
            conn.sendall(answer("503 Service Unavailable", b'{"title": "busy"}', (("Retry-After", "\u00b2"),)))
        elif mode == "crash-mid-run":
            if number > CRASH_AFTER:
                os._exit(0)
            conn.sendall(answer("201 Created", customer()))
        elif mode == "refuse-key":
            conn.sendall(answer("401 Unauthorized", b'{"title": "Unauthorized"}', (("WWW-Authenticate", "Bearer"),)))
        elif mode == "no-prefix":
            if target.startswith("/v1/"):
                conn.sendall(answer("201 Created", customer()))
            else:
                conn.sendall(answer("404 Not Found", b'{"title": "Not Found"}'))
        else:
            raise SystemExit(f"unknown mode {mode}")


def handle(conn: socket.socket, mode: str, bomb: bytes, first_ok: bool) -> None:
    with conn, contextlib.suppress(OSError):
        serve(conn, mode, bomb, first_ok)


def gzip_bomb(gib: int = 1) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    parts = [packer.compress(zeros) for _ in range(gib << 10)]
    return b"".join(parts) + packer.flush()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--first-ok", action="store_true", help="answer the first request as `ok` does")
    args = parser.parse_args()
    bomb = gzip_bomb() if args.mode == "gzip-bomb" else b""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(128)
    print("ready", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=handle, args=(conn, args.mode, bomb, args.first_ok), daemon=True).start()


if __name__ == "__main__":
    main()
