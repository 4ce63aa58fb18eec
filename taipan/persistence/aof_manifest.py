"""The Redis 7 multi-part AOF manifest: which base and incr files make the dataset.

One line per file, as Redis writes it::

    file appendonly.aof.1.base.aof seq 1 type b
    file appendonly.aof.1.incr.aof seq 1 type i

``b`` is the base (a snapshot), ``i`` the incremental files appended after it, in
order, and ``h`` files of an older generation waiting for deletion.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field


class AofError(Exception):
    """The AOF can't be loaded or written; the text is the log message."""


@dataclass
class AofFile:
    name: str
    seq: int
    kind: str  # "b" base, "i" incr, "h" history


@dataclass
class Manifest:
    base: AofFile | None = None
    incrs: list[AofFile] = field(default_factory=list)
    history: list[AofFile] = field(default_factory=list)

    @property
    def next_incr_seq(self) -> int:
        return max((f.seq for f in self.incrs), default=0) + 1

    def render(self) -> bytes:
        lines = []
        for item in ([self.base] if self.base else []) + self.history + self.incrs:
            name = item.name
            if any(ch.isspace() or ch in "\"'\\" for ch in name):
                name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
            lines.append(f"file {name} seq {item.seq} type {item.kind}\n")
        return "".join(lines).encode()


def parse_manifest(text: str, path: str) -> Manifest:
    manifest = Manifest()
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            words = shlex.split(line)
        except ValueError:
            raise AofError(f"Invalid AOF manifest file format: {path} line {number}") from None
        if len(words) % 2:
            raise AofError(f"Invalid AOF manifest file format: {path} line {number}")
        pairs = dict(zip(words[::2], words[1::2], strict=True))
        try:
            item = AofFile(pairs["file"], int(pairs["seq"]), pairs["type"])
        except (KeyError, ValueError):
            raise AofError(f"Invalid AOF manifest file format: {path} line {number}") from None
        if item.kind == "b":
            if manifest.base is not None:
                raise AofError(f"Found duplicate base file information in {path}")
            manifest.base = item
        elif item.kind == "i":
            if manifest.incrs and item.seq <= manifest.incrs[-1].seq:
                raise AofError(f"Found a non-monotonic sequence number in {path}")
            manifest.incrs.append(item)
        elif item.kind == "h":
            manifest.history.append(item)
        else:
            raise AofError(f"Unknown AOF file type '{item.kind}' in {path}")
    return manifest


def read_manifest(path: str) -> Manifest | None:
    """The manifest at ``path``, or None when there is none."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AofError(f"Can't open the AOF manifest {path} for reading: {exc.strerror}") from None
    return parse_manifest(text, path)


def fsync_dir(path: str) -> None:
    """Make a rename inside ``path`` durable (no-op where directories can't be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` to a temp file next to ``path``, fsync it, rename it over ``path``."""
    directory, name = os.path.split(path)
    temp = os.path.join(directory, "temp-" + name)
    with open(temp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    fsync_dir(directory or ".")
