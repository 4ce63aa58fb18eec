"""Parse raw RESP replies into plain values for structural comparisons in tests."""

from __future__ import annotations


def parse(reply: bytes) -> object:
    """One whole reply: bulks → bytes, integers → int, arrays → list, null → None,
    simple strings and errors → str, maps → ("map", [k, v, ...]), doubles →
    ("double", text)."""
    value, rest = _parse(reply)
    assert rest == b"", f"trailing bytes after a reply: {rest!r}"
    return value


def _parse(data: bytes) -> tuple[object, bytes]:
    line, rest = data.split(b"\r\n", 1)
    kind, body = line[:1], line[1:]
    if kind == b"$":
        length = int(body)
        return (None, rest) if length < 0 else (rest[:length], rest[length + 2:])
    if kind in (b"*", b"%", b"~"):
        if int(body) < 0:
            return None, rest
        items = []
        for _ in range(int(body) * (2 if kind == b"%" else 1)):
            item, rest = _parse(rest)
            items.append(item)
        return (("map", items) if kind == b"%" else items), rest
    if kind == b":":
        return int(body), rest
    if kind == b",":
        return ("double", body), rest
    if kind == b"_":
        return None, rest
    return line.decode(), rest
