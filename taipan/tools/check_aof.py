"""``taipan-check-aof [--fix|--truncate-to-timestamp ts] [--yes] <manifest|aof>``:
validate an AOF as redis-check-aof does, and optionally truncate it.

RESP parsing is ``aof_load.parse_commands`` (the loader's own parser, so what this tool
calls valid is what Taipan loads); the manifest is read with ``aof_manifest``; an RDB
preamble / RDB base file is checked with ``check_rdb``. Added here: MULTI/EXEC
balance, ``#TS:`` annotations, line counting and the report.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from taipan.persistence.aof_load import BadFormat, Truncated, parse_commands
from taipan.persistence.aof_manifest import AofError, read_manifest
from taipan.tools.check_rdb import check_rdb

OK, EMPTY, TRUNCATED, TIMESTAMP_TRUNCATED = range(4)

USAGE = ("Usage: taipan-check-aof [--fix|--truncate-to-timestamp $timestamp] [--yes] "
         "<file.manifest|file.aof>")


class CheckExit(Exception):
    """Stop with exit status 1 (the message has been printed)."""


@dataclass
class Options:
    fix: bool = False
    to_timestamp: int = 0
    yes: bool = False


@dataclass
class Scan:
    size: int
    ok_up_to: int
    line: int
    error: str | None = None
    ts_cut: int | None = None  # where --truncate-to-timestamp cuts the file


def _annotations(data: bytes, pos: int, scan: Scan, opts: Options) -> int:
    """Skip the ``#`` lines at ``pos``; return where the next command starts. Sets
    ``scan.ts_cut`` at the first ``#TS:`` past ``opts.to_timestamp``."""
    while data[pos:pos + 1] == b"#":
        newline = data.find(b"\n", pos)
        stop = len(data) if newline < 0 else newline + 1
        text = data[pos:stop]
        if opts.to_timestamp and text.startswith(b"#TS:"):
            digits = text[4:].rstrip(b"\r\n")
            if not digits.lstrip(b"-").isdigit() or not text.endswith(b"\r\n"):
                print("Invalid timestamp annotation")
                raise CheckExit
            if int(digits) > opts.to_timestamp:
                scan.ts_cut = pos
                return pos
        pos = stop
    return pos


def _partial_lines(data: bytes, pos: int) -> int:
    """The lines redis-check-aof counts before it stops inside the command at ``pos``
    (its ``ok_up_to_line`` includes them)."""
    lines = 0
    newline = data.find(b"\r\n", pos)
    if newline < 0 or data[pos:pos + 1] != b"*":
        return 0
    try:
        argc = int(data[pos + 1:newline])
    except ValueError:
        return 0
    lines, pos = 1, newline + 2
    for _ in range(max(argc, 0)):
        newline = data.find(b"\r\n", pos)
        if newline < 0 or data[pos:pos + 1] != b"$":
            break
        try:
            length = int(data[pos + 1:newline])
        except ValueError:
            break
        lines, pos = lines + 1, newline + 2
        if length < 0 or data[pos + length:pos + length + 2] != b"\r\n":
            break
        lines, pos = lines + 1, pos + length + 2
    return lines


def scan_aof(data: bytes, start: int, line: int, opts: Options) -> Scan:
    """Validate the RESP commands of ``data`` from ``start``."""
    scan = Scan(len(data), start, line)
    multi = False
    pos = start
    commands = parse_commands(data[start:] if start else data)
    while True:
        pos = _annotations(data, pos, scan, opts)
        if scan.ts_cut is not None or pos >= len(data):
            break
        try:
            end, argv = next(commands)
        except Truncated as cut:
            pos = start + cut.offset
            scan.line += _partial_lines(data, pos)
            scan.error = (f"0x{pos:16x}: Unexpected end of file in the middle of the command "
                          f"at offset {pos}")
            break
        except BadFormat as bad:
            pos = start + bad.offset
            scan.line += _partial_lines(data, pos)
            first = data[pos:pos + 1]
            if first != b"*":
                scan.error = f"0x{pos:16x}: Expected prefix '*', got: {first!r} at offset {pos}"
            else:
                scan.error = f"0x{pos:16x}: Bad RESP format in the command at offset {pos}"
            break
        except StopIteration:
            break
        name = argv[0].lower()
        if name == b"multi":
            if multi:
                scan.error = f"0x{pos:16x}: Unexpected MULTI at offset {pos}"
                scan.line += 3  # redis-check-aof read "*N", "$L" and the name
                break
            multi = True
        elif name == b"exec":
            if not multi:
                scan.error = f"0x{pos:16x}: Unexpected EXEC at offset {pos}"
                scan.line += 3  # redis-check-aof read "*N", "$L" and the name
                break
            multi = False
        pos = start + end
        scan.line += 1 + 2 * len(argv)
        if not multi:
            scan.ok_up_to = pos
    if multi and scan.error is None and scan.ts_cut is None:
        scan.error = (f"0x{pos:16x}: Reached EOF before reading EXEC for MULTI "
                      f"(the MULTI at offset {scan.ok_up_to})")
    return scan


def check_single(name: str, path: str, last: bool, opts: Options, line: list[int]) -> int:
    """Check one file; OK / EMPTY / TRUNCATED / TIMESTAMP_TRUNCATED, or CheckExit."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        print(f"Cannot open file {path}: {exc.strerror}, aborting...")
        raise CheckExit from None
    if not data:
        return EMPTY
    start = 0
    if data[:5] == b"REDIS":
        report = check_rdb(data, name, stop_at_eof=False)
        if not report.ok:
            print("RDB preamble of AOF file is not sane, aborting.")
            raise CheckExit
        print("RDB preamble is OK, proceeding with AOF tail...")
        start = report.end
    scan = scan_aof(data, start, line[0], opts)
    line[0] = scan.line
    if scan.ts_cut is not None:
        if scan.ts_cut == 0:
            print(f"AOF {path} has nothing before timestamp {opts.to_timestamp}, aborting...")
            raise CheckExit
        if not last:
            print(f"Failed to truncate AOF {path} to timestamp {opts.to_timestamp} to offset "
                  f"{scan.ts_cut} because it is not the last file.")
            print("If you insist, please delete all files after this file according to the "
                  "manifest file and delete the corresponding records in manifest file "
                  "manually. Then re-run taipan-check-aof.")
            raise CheckExit
        os.truncate(path, scan.ts_cut)
        return TIMESTAMP_TRUNCATED
    if scan.error:
        print(scan.error)
    diff = scan.size - scan.ok_up_to
    if diff == 0 and opts.to_timestamp:
        print(f"Truncate nothing in AOF {name} to timestamp {opts.to_timestamp}")
        return OK
    print(f"AOF analyzed: filename={name}, size={scan.size}, ok_up_to={scan.ok_up_to}, "
          f"ok_up_to_line={scan.line}, diff={diff}")
    if diff == 0:
        return OK
    if not opts.fix:
        print(f"AOF {name} is not valid. Use the --fix option to try fixing it.")
        raise CheckExit
    if not last:
        print(f"Failed to truncate AOF {name} because it is not the last file")
        raise CheckExit
    print(f"This will shrink the AOF {name} from {scan.size} bytes, with {diff} bytes, "
          f"to {scan.ok_up_to} bytes")
    if not opts.yes and sys.stdin is not None and sys.stdin.isatty():
        print("Continue? [y/N]: ", end="", flush=True)
        answer = sys.stdin.readline()
        if not answer[:1].lower() == "y":
            print("Aborting...")
            raise CheckExit
    try:
        os.truncate(path, scan.ok_up_to)
    except OSError:
        print(f"Failed to truncate AOF {name}")
        raise CheckExit from None
    return TRUNCATED


def _result(kind: str, name: str, status: int, opts: Options) -> None:
    if status == OK:
        print(f"{kind}AOF {name} is valid")
    elif status == EMPTY:
        print(f"{kind}AOF {name} is empty")
    elif status == TIMESTAMP_TRUNCATED:
        print(f"Successfully truncated AOF {name} to timestamp {opts.to_timestamp}")
    else:
        print(f"Successfully truncated AOF {name}")


def is_manifest(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            lines = handle.read().splitlines()
    except OSError as exc:
        print(f"Cannot open file {path}: {exc.strerror}")
        raise CheckExit from None
    return any(line.startswith(b"file") for line in lines if not line.startswith(b"#"))


def check_multi_part(manifest_path: str, opts: Options) -> None:
    print("Start checking Multi Part AOF")
    try:
        manifest = read_manifest(manifest_path)
    except AofError as exc:
        print(str(exc))
        raise CheckExit from None
    assert manifest is not None  # is_manifest() read it
    directory = os.path.dirname(manifest_path)
    files = ([manifest.base] if manifest.base else []) + manifest.incrs
    line = [1]
    for index, item in enumerate(files):
        last = index == len(files) - 1
        path = os.path.join(directory, item.name)
        if item is manifest.base:
            try:
                with open(path, "rb") as handle:
                    rdb = handle.read(5) == b"REDIS"
            except OSError as exc:
                print(f"Cannot open file {path}: {exc.strerror}, aborting...")
                raise CheckExit from None
            print(f"Start to check BASE AOF ({'RDB' if rdb else 'RESP'} format).")
            _result("BASE ", item.name, check_single(item.name, path, last, opts, line), opts)
        else:
            if index == (1 if manifest.base else 0):
                print("Start to check INCR files.")
            _result("INCR ", item.name, check_single(item.name, path, last, opts, line), opts)
    print("All AOF files and manifest are valid")


def parse_args(args: list[str]) -> tuple[Options, str]:
    opts = Options()
    rest: list[str] = []
    items = iter(args)
    for arg in items:
        if arg == "--fix":
            opts.fix = True
        elif arg in ("--yes", "-y"):
            opts.yes = True
        elif arg == "--truncate-to-timestamp":
            value = next(items, None)
            try:
                opts.to_timestamp = int(value or "")
            except ValueError:
                print("Invalid timestamp, aborting...")
                raise CheckExit from None
        else:
            rest.append(arg)
    if len(rest) != 1 or (opts.fix and opts.to_timestamp) or rest[0].startswith("-"):
        print(USAGE)
        raise CheckExit
    return opts, rest[0]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        opts, path = parse_args(args)
        if is_manifest(path):
            check_multi_part(path, opts)
        else:
            print("Start checking Old-Style AOF")
            _result("", path, check_single(path, path, True, opts, [1]), opts)
    except CheckExit:
        sys.stdout.flush()
        return 1
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
