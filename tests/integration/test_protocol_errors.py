"""Malformed requests over real sockets, compared with a real Redis 7.0.

Each case runs on its own connection to both servers; the bytes sent back and
whether the server then closed the connection must be the same. Other clients are
never disturbed.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
from support.raw import RawClient
from support.servers import ServerProcess

CASES = [
    # multibulk count
    b"*abc\r\n", b"*-1\r\n*1\r\n$4\r\nPING\r\n", b"*0\r\n", b"*3000000000\r\n",
    b"*2147483648\r\n", b"*1 \r\n$4\r\nPING\r\n", b"*+1\r\n$4\r\nPING\r\n",
    b"*01\r\n$4\r\nPING\r\n", b"*" + b"1" * 70000,
    # bulk headers and payloads
    b"*1\r\n+foo\r\n", b"*1\r\n:4\r\n", b"*1\r\n$abc\r\n", b"*1\r\n$-1\r\n", b"*1\r\n$-0\r\n",
    b"*1\r\n$600000000\r\n", b"*1\r\n$04\r\nPING\r\n", b"*1\r\n$+4\r\nPING\r\n",
    b"*1\r\n$" + b"1" * 70000, b"*1\r\n$4\r\nPINGxx", b"*1\r\n$4\r\nPINGABCD",
    b"*1\r\n$0\r\n\r\n", b"*2\r\n$4\r\nPING\r\n", b"*1\r\n",
    # errors after good requests in the same packet
    b"*1\r\n$4\r\nPING\r\n*1\r\n$x\r\n", b"*1\r\n$4\r\nPING\r\nGARBAGE",
    b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n",
    # inline requests
    b'PING "a\r\n', b"PING 'a\r\n", b'PING "a"b\r\n', b"\r\n", b"PING\n", b"  \r\nPING\r\n",
    b'PING "\\x41"\r\n', b"x" * 70000, b"ECHO 'it''s'\r\n",
    # cross-protocol scripting: an HTTP request is dropped without a reply
    b"POST / HTTP/1.1\r\nHost: example\r\n\r\n", b"PING\r\nPOST /x\r\nPING\r\n",
    b"Host: example\r\n", b"*1\r\n$4\r\npost\r\n", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
]


def _send_all(port: int, payloads: list[bytes]) -> list[socket.socket]:
    sockets = []
    for payload in payloads:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(payload)
        sockets.append(sock)
    return sockets


def _collect(sock: socket.socket) -> tuple[bytes, bool]:
    """Everything received so far, and whether the server closed the connection."""
    sock.setblocking(False)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except BlockingIOError:
            return data, False
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk


def test_protocol_errors_match_redis(real_redis: ServerProcess, taipan: ServerProcess) -> None:
    witnesses = [RawClient(real_redis.port), RawClient(taipan.port)]
    ref_sockets = _send_all(real_redis.port, CASES)
    our_sockets = _send_all(taipan.port, CASES)
    time.sleep(0.8)
    failures = []
    for payload, ref_sock, our_sock in zip(CASES, ref_sockets, our_sockets, strict=True):
        expected, actual = _collect(ref_sock), _collect(our_sock)
        if actual != expected:
            failures.append(f"{payload[:40]!r}\n   redis:  {expected}\n   taipan: {actual}")
        ref_sock.close()
        our_sock.close()
    # Nobody else noticed anything.
    for witness in witnesses:
        assert witness.call("PING") == b"+PONG\r\n"
        witness.close()
    assert not failures, "\n".join(failures)


def test_protocol_error_counts_as_error_reply(taipan: ServerProcess) -> None:
    with RawClient(taipan.port) as client:
        before = client.call("INFO", "stats")
        sock = socket.create_connection(("127.0.0.1", taipan.port), timeout=5)
        sock.sendall(b"*1\r\n$abc\r\n")
        assert sock.recv(100) == b"-ERR Protocol error: invalid bulk length\r\n"
        sock.close()
        after = client.call("INFO", "stats")

    def errors(info: bytes) -> int:
        return int(info.split(b"total_error_replies:")[1].split(b"\r\n")[0])

    assert errors(after) == errors(before) + 1


@pytest.mark.parametrize("count", [100_000])
def test_huge_pipeline_in_one_write(taipan: ServerProcess, count: int) -> None:
    sock = socket.create_connection(("127.0.0.1", taipan.port), timeout=30)
    payload = b"*1\r\n$4\r\nPING\r\n" * count
    sender = threading.Thread(target=sock.sendall, args=(payload,))
    sender.start()
    expected = b"+PONG\r\n" * count
    received = bytearray()
    while len(received) < len(expected):
        chunk = sock.recv(1 << 20)
        assert chunk, f"closed after {len(received)} bytes"
        received += chunk
    sender.join()
    assert bytes(received) == expected
    sock.close()


def test_inline_pipeline_and_mixed_protocols(real_redis: ServerProcess,
                                             taipan: ServerProcess) -> None:
    payload = b"SET inline-k 'a b'\r\nGET inline-k\r\n*2\r\n$3\r\nGET\r\n$8\r\ninline-k\r\n" \
              b"DEL inline-k\nPING\r\n"
    replies = []
    for server in (real_redis, taipan):
        with RawClient(server.port) as client:
            client.send_raw(payload)
            replies.append([client.read_reply() for _ in range(5)])
    assert replies[1] == replies[0]


def test_proto_max_bulk_len(real_redis: ServerProcess, taipan: ServerProcess) -> None:
    results = []
    for server in (real_redis, taipan):
        with RawClient(server.port) as admin:
            admin.call("CONFIG", "SET", "proto-max-bulk-len", "1mb")
            try:
                sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
                sock.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n")
                time.sleep(0.2)
                results.append(_collect(sock))
                sock.close()
                ok = socket.create_connection(("127.0.0.1", server.port), timeout=5)
                ok.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048576\r\n" + b"x" * 1048576
                           + b"\r\n*1\r\n$3\r\nDEL\r\n$1\r\nk\r\n")
                time.sleep(0.3)
                results.append(_collect(ok))
                ok.close()
            finally:
                admin.call("CONFIG", "SET", "proto-max-bulk-len", "512mb")
    assert results[2:] == results[:2]
    assert results[0] == (b"-ERR Protocol error: invalid bulk length\r\n", True)


def test_verbose_log_has_connection_lines() -> None:
    from support.servers import start_taipan

    process = start_taipan("--loglevel", "verbose")
    try:
        with socket.create_connection(("127.0.0.1", process.port)) as sock:
            sock.sendall(b"PING\r\n")
            assert sock.recv(64) == b"+PONG\r\n"
        deadline = time.monotonic() + 5
        while "Client closed connection id=" not in process.output():
            assert time.monotonic() < deadline, process.output()
            time.sleep(0.02)
        log = process.output()
        assert " - Accepted 127.0.0.1:" in log
        assert "cmd=ping" in log.split("Client closed connection", 1)[1]
    finally:
        process.stop()
