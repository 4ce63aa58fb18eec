"""Hash commands that sample or walk a hash: HRANDFIELD and HSCAN."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taipan.commands.args import to_int
from taipan.commands.hashes import read_hash
from taipan.commands.scanning import parse_cursor, parse_scan_options
from taipan.commands.table import CommandGroup
from taipan.errors import ReplyError, SyntaxErr
from taipan.glob import glob_match
from taipan.types.hashes import RedisHash

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("hash")

_LONG_MAX = 2**63 - 1
_COUNT_RANGE = ReplyError("ERR value is out of range, value must between "
                          "-9223372036854775807 and 9223372036854775807")
_OUT_OF_RANGE = ReplyError("ERR value is out of range")


def _reply(value: RedisHash, fields: list[bytes], withvalues: bool, resp: int) -> list:
    """Fields, or fields with values: flat in RESP2, [field, value] pairs in RESP3."""
    if not withvalues:
        return fields
    if resp >= 3:
        return [[field, value[field]] for field in fields]
    flat: list[bytes] = []
    for field in fields:
        flat.append(field)
        flat.append(value[field])
    return flat


@commands.command("HRANDFIELD", arity=-2, flags="readonly", keys=(1, 1, 1),
                  tips="nondeterministic_output",
                  summary="Get one or multiple random fields from a hash", since="6.2.0",
                  complexity="O(N) where N is the number of fields returned")
def hrandfield(ctx: Client, argv: list[bytes]) -> Any:
    """HRANDFIELD key [count [WITHVALUES]]"""
    if len(argv) == 2:
        value = read_hash(ctx, argv[1])
        return None if value is None else value.random_field()
    count = to_int(argv[2])
    if count < -_LONG_MAX:
        raise _COUNT_RANGE
    if len(argv) > 4 or (len(argv) == 4 and argv[3].upper() != b"WITHVALUES"):
        raise SyntaxErr()
    withvalues = len(argv) == 4
    if withvalues and not -(_LONG_MAX // 2) <= count <= _LONG_MAX // 2:
        raise _OUT_OF_RANGE  # the reply length would overflow
    value = read_hash(ctx, argv[1])
    if value is None or count == 0:
        return []
    if count < 0 or count == 1:  # repetitions allowed, random order
        fields = value.random_fields(-count if count < 0 else 1)
    elif count >= len(value):  # the whole hash, in its iteration order
        fields = list(value)
    else:
        fields = value.distinct_random_fields(count)
    return _reply(value, fields, withvalues, ctx.resp)


@commands.command("HSCAN", arity=-3, flags="readonly", keys=(1, 1, 1),
                  tips="nondeterministic_output",
                  summary="Incrementally iterate hash fields and associated values",
                  since="2.8.0",
                  complexity="O(1) for every call. O(N) for a complete iteration, including "
                             "enough command calls for the cursor to return back to 0. N is the "
                             "number of elements inside the collection..")
def hscan(ctx: Client, argv: list[bytes]) -> list:
    """HSCAN key cursor [MATCH pattern] [COUNT count]"""
    cursor = parse_cursor(argv[2])
    value = read_hash(ctx, argv[1])
    if value is None:
        return [b"0", []]
    pattern, count, _ = parse_scan_options(argv, 3, allow_type=False)
    if not value.hashtable:  # Redis returns a whole listpack at once, whatever the cursor
        next_cursor, fields = 0, list(value)
    else:
        next_cursor, fields = ctx.server.scan_snapshots.page(value, len(value), cursor, count)
    reply: list[bytes] = []
    for field in fields:
        found = value.get(field)
        if found is None:  # deleted since the scan began
            continue
        if pattern is None or glob_match(pattern, field):
            reply.append(field)
            reply.append(found)
    return [b"%d" % next_cursor, reply]
