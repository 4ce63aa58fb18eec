"""Replaying AOF files through the real dispatcher at startup.

Each file is a sequence of RESP arrays of bulk strings; lines starting with ``#``
between commands are annotations (``#TS:<unix time>`` with aof-timestamp-enabled) and
are skipped, as Redis does. A command cut short at the end of the last file is a
crash mid-write: with ``aof-load-truncated yes`` the file is truncated to its last
complete command and loading goes on; anything else malformed stops the server.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from taipan.persistence.aof_manifest import AofError, Manifest
from taipan.persistence.functions_link import library_loader
from taipan.persistence.loading import install_keys
from taipan.persistence.rdb_file import RdbError, read_rdb

if TYPE_CHECKING:
    from taipan.instance import Instance

log = logging.getLogger("taipan")


class Truncated(Exception):
    """The file ends in the middle of a command; ``offset`` is the last good one."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


class BadFormat(Exception):
    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


def parse_commands(data: bytes, pos: int = 0) -> Iterator[tuple[int, list[bytes]]]:
    """(offset after the command, argv) for each command in ``data`` from ``pos``.

    Raises ``Truncated`` at a partial last command, ``BadFormat`` on garbage.
    """
    end = len(data)
    while pos < end:
        start = pos
        newline = data.find(b"\n", pos)
        if newline < 0:
            raise Truncated(start)
        line = data[pos:newline].rstrip(b"\r")
        if line[:1] == b"#":
            pos = newline + 1
            continue
        if line[:1] != b"*":
            raise BadFormat(start)
        try:
            count = int(line[1:])
        except ValueError:
            raise BadFormat(start) from None
        if count < 1:
            raise BadFormat(start)
        pos = newline + 1
        argv: list[bytes] = []
        for _ in range(count):
            newline = data.find(b"\n", pos)
            if newline < 0:
                raise Truncated(start)
            line = data[pos:newline].rstrip(b"\r")
            if line[:1] != b"$":
                raise BadFormat(start)
            try:
                length = int(line[1:])
            except ValueError:
                raise BadFormat(start) from None
            pos = newline + 1
            if pos + length + 2 > end:
                raise Truncated(start)
            argv.append(data[pos:pos + length])
            if data[pos + length:pos + length + 2] != b"\r\n":
                raise BadFormat(start)
            pos += length + 2
        yield pos, argv


def load_manifest_files(instance: Instance, client: Any, directory: str,
                        manifest: Manifest) -> None:
    """Replay base then incr files as ``client`` (a socketless, authenticated client
    the server builds); raise ``AofError`` when startup must stop."""
    started = time.monotonic()
    files = ([manifest.base] if manifest.base else []) + manifest.incrs
    progress = instance.loading_progress
    sizes = []
    for item in files:
        try:
            sizes.append(os.path.getsize(os.path.join(directory, item.name)))
        except OSError:
            sizes.append(0)  # reported as missing when its turn comes
    progress.begin(sum(sizes))
    for index, item in enumerate(files):
        last = index == len(files) - 1
        kind = "base" if item.kind == "b" else "incr"
        file_started = time.monotonic()
        _load_file(instance, client, os.path.join(directory, item.name), item.name, last)
        progress.loaded_bytes = sum(sizes[:index + 1])
        log.info(f"DB loaded from {kind} file {item.name}: "
                 f"{time.monotonic() - file_started:.3f} seconds")
    log.info(f"DB loaded from append only file: {time.monotonic() - started:.3f} seconds")


def _load_rdb_preamble(instance: Instance, data: bytes, name: str) -> int:
    """A file that starts as an RDB (a ``.base.rdb`` written with aof-use-rdb-preamble
    yes, or an old-style AOF with an RDB preamble): load it; the offset after it."""
    try:
        contents = read_rdb(data, instance.config, library_loader(instance))
    except RdbError as exc:
        raise AofError(f"Error reading the RDB base file {name}, AOF loading aborted "
                       f"({exc})") from None
    for index in contents.databases:
        if index >= len(instance.databases):
            raise AofError(f"FATAL: Data file was created with a Redis server configured "
                           f"to handle more than {len(instance.databases)} databases.")
    install_keys(instance, contents)
    return contents.end


def _read_file(path: str, name: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise AofError(f"The AOF file {name} doesn't exist") from None
    except OSError as exc:
        raise AofError(f"Fatal error: can't open the append log file {name} for reading: "
                       f"{exc.strerror}") from None


def _load_file(instance: Instance, client: Any, path: str, name: str, last: bool) -> None:
    data = _read_file(path, name)
    start = _load_rdb_preamble(instance, data, name) if data[:5] == b"REDIS" else 0
    if start >= len(data):
        return
    dispatcher = instance.dispatcher
    good = start  # offset after the last complete command outside MULTI
    try:
        for offset, argv in parse_commands(data, start):
            command = dispatcher.resolve(argv)
            if not hasattr(command, "handler"):
                raise AofError(f"Unknown command '{argv[0].decode(errors='replace')}' "
                               f"reading the append only file {name}")
            dispatcher.execute(client, argv)
            if client.multi is None:
                good = offset
        if client.multi is not None:
            log.warning("Revert incomplete MULTI/EXEC transaction in AOF file "
                        f"{name}")
            client.multi = None
            raise Truncated(good)
    except Truncated as cut:
        client.multi = None
        _truncated(instance, path, name, min(cut.offset, good), last)
    except BadFormat as bad:
        raise AofError(f"Bad file format reading the append only file {name} at offset "
                       f"{bad.offset}: make a backup of your AOF file, then use "
                       f"./redis-check-aof --fix <filename.manifest>") from None


def _truncated(instance: Instance, path: str, name: str, offset: int, last: bool) -> None:
    if not last:
        raise AofError(f"Fatal error: the truncated file {name} is not the last file")
    if not instance.config.aof_load_truncated:
        raise AofError(f"Unexpected end of file reading the append only file {name} "
                       f"(offset {offset}). You can: 1) Make a backup of your AOF file, then "
                       f"use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively "
                       f"you can set the 'aof-load-truncated' configuration option to yes "
                       f"and restart the server.")
    log.warning(f"!!! Warning: short read while loading the AOF file {name}!!!")
    log.warning(f"!!! Truncating the AOF {name} at offset {offset} !!!")
    try:
        os.truncate(path, offset)
    except OSError as exc:
        raise AofError(f"Error truncating the AOF file {name}: {exc.strerror}") from None
    log.warning(f"AOF {name} loaded anyway because aof-load-truncated is enabled")
