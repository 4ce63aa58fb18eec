"""A raw RESP client: send commands, get each reply's exact bytes back."""

from __future__ import annotations

import socket


class RawClient:
    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def encode(*args: bytes | str | int) -> bytes:
        parts = [b"*%d\r\n" % len(args)]
        for arg in args:
            if isinstance(arg, str):
                arg = arg.encode()
            elif isinstance(arg, int):
                arg = b"%d" % arg
            parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
        return b"".join(parts)

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def call(self, *args: bytes | str | int) -> bytes:
        """Send one command; return its whole reply, byte for byte."""
        self.sock.sendall(self.encode(*args))
        return self.read_reply()

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed")
        self.buf += chunk

    def _line_end(self, pos: int) -> int:
        while True:
            end = self.buf.find(b"\r\n", pos)
            if end >= 0:
                return end
            self._fill()

    def _reply_end(self, pos: int) -> int:
        end = self._line_end(pos)
        kind = self.buf[pos:pos + 1]
        header = self.buf[pos + 1:end]
        nxt = end + 2
        if kind in (b"+", b"-", b":", b"_", b",", b"#", b"("):
            return nxt
        if kind in (b"$", b"=", b"!"):
            length = int(header)
            if length < 0:
                return nxt
            while len(self.buf) < nxt + length + 2:
                self._fill()
            return nxt + length + 2
        if kind in (b"*", b"~", b">", b"%", b"|"):
            count = int(header)
            if count < 0:
                return nxt
            if kind in (b"%", b"|"):
                count *= 2
            for _ in range(count):
                nxt = self._reply_end(nxt)
            return nxt
        raise ValueError(f"unexpected reply type {kind!r} in {self.buf[pos:pos + 50]!r}")

    def read_reply(self) -> bytes:
        if not self.buf:
            self._fill()
        end = self._reply_end(0)
        reply, self.buf = self.buf[:end], self.buf[end:]
        return reply

    def read_until_closed(self, timeout: float = 2.0) -> bytes:
        """Everything the server sends until it closes the connection."""
        self.sock.settimeout(timeout)
        data = self.buf
        self.buf = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                return data + b"<still open>"
            except ConnectionResetError:
                return data
            if not chunk:
                return data
            data += chunk


def library_codes(client: RawClient) -> set[bytes]:
    """The library codes FUNCTION LIST WITHCODE shows (read from the raw RESP2 reply,
    so it works the same against redis-server and Taipan)."""
    reply = client.call("FUNCTION", "LIST", "WITHCODE")
    codes, marker = set(), b"$12\r\nlibrary_code\r\n"
    start = reply.find(marker)
    while start >= 0:
        head, _, rest = reply[start + len(marker):].partition(b"\r\n")
        codes.add(rest[:int(head[1:])])
        start = reply.find(marker, start + 1)
    return codes
