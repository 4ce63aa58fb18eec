"""SORT and SORT_RO, with Redis 7.0's exact orders, scores and errors.

What is observable, and why it is done the way it is here:

- Numeric sorting reads each score as C's ``strtod`` does (leading C spaces, hex,
  ``inf``, the text cut at a NUL byte, an empty string is 0), refusing NaN, trailing
  bytes and out-of-range values (glibc's ERANGE, subnormal rules included). Equal
  scores are ordered by the elements' bytes, so the order is total.
- ALPHA compares with ``strcoll`` (byte order under the C and C.UTF-8 locales, up to
  the first NUL), or whole bytes when storing. Elements whose BY key is missing come
  first. Ties keep their input order: glibc's ``qsort`` is a stable merge sort.
- With a BY pattern and a LIMIT that cuts the result, Redis runs its partial
  quicksort (Bentley-McIlroy, skipping the parts outside the limit), which is not
  stable: where distinct elements compare equal, ``partial_quicksort`` replays that
  algorithm so ties come out in Redis's order.
- ``BY`` without ``*`` skips sorting: lists and sorted sets keep their order (DESC
  walks it backwards, LIMIT picks the range directly), a set comes in iteration
  order, or sorted ALPHA when storing (so replicas and AOF agree).
"""

from __future__ import annotations

import re
from fractions import Fraction
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from taipan.commands.args import parse_exact_float, to_int
from taipan.commands.keyspecs import KeyRefs
from taipan.commands.pqsort import partial_quicksort
from taipan.commands.table import CommandGroup
from taipan.errors import SyntaxErr, WrongType, err
from taipan.keyspace import events as ev
from taipan.types.hashes import RedisHash
from taipan.types.lists import RedisList
from taipan.types.sets import RedisSet
from taipan.types.zset import ZSet

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("generic")

_SORTABLE = (RedisList, RedisSet, ZSet)
_NOT_A_DOUBLE = "One or more scores can't be converted into double"

# -- scores: what strtod reads ------------------------------------------------------------

_C_SPACES = b" \t\n\v\f\r"
# The whole of what strtod accepts (NaN forms are refused anyway): sign, then hex with
# an optional binary exponent, decimal with an optional exponent, or inf/infinity.
_STRTOD = re.compile(
    rb"[+-]?(?:(0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?)"
    rb"|((?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)|(inf(?:inity)?))\Z",
    re.IGNORECASE,
)
_SMALL_INT = re.compile(rb"-?[0-9]{1,15}\Z")  # the common case, exact as a double
_DBL_MIN = 2.2250738585072014e-308
_TWO_53 = 1 << 53


def c_score(value: bytes | bytearray) -> float | None:
    """The score SORT reads from ``value``, or None where Redis refuses it."""
    nul = value.find(b"\0")
    if nul >= 0:
        value = value[:nul]
    if not value:
        return 0.0  # strtod reads nothing and stops on the terminator: no error
    if _SMALL_INT.match(value):
        return float(value)
    text = bytes(value.lstrip(_C_SPACES))
    match = _STRTOD.match(text)
    if match is None:
        return None
    if match.group(3) is not None:
        return float("-inf") if text[:1] == b"-" else float("inf")
    try:
        score = float(text) if match.group(2) is not None else float.fromhex(text.decode())
    except OverflowError:
        return None
    if score in (float("inf"), float("-inf")):
        return None  # overflow
    if -_DBL_MIN <= score <= _DBL_MIN and _underflows(text):
        return None
    return score


def _underflows(text: bytes) -> bool:
    """Whether glibc's strtod sets ERANGE for a result in the subnormal range.

    glibc rounds to 53 bits first (tininess after rounding, so a value that rounds up
    to the smallest normal is not tiny), then reports an underflow when the bits the
    subnormal format drops, or any bit below the 53-bit rounding bit, are non-zero.
    The rounding bit itself is not consulted at that point.
    """
    exact = parse_exact_float(text)
    if not isinstance(exact, Fraction) or exact == 0:
        return False
    exact = abs(exact)
    num, den = exact.numerator, exact.denominator
    exponent = num.bit_length() - den.bit_length()  # 2**exponent <= exact < 2**(exponent+1)
    if (num << max(-exponent, 0)) < (den << max(exponent, 0)):
        exponent -= 1
    shift = -1022 - exponent
    if shift <= 0:
        return False
    if shift >= 53:
        return True
    scaled = exact * Fraction(2) ** (52 - exponent)
    mantissa = scaled.numerator // scaled.denominator  # 53 bits, truncated
    rest = scaled - mantissa
    below_round_bit = (rest * 2).denominator != 1
    if shift == 1:
        rounds_up = rest >= Fraction(1, 2) and (below_round_bit or mantissa & 1)
        if rounds_up and mantissa + 1 == _TWO_53:
            return False  # rounds to the smallest normal: not tiny
    return bool(mantissa & ((1 << shift) - 1)) or below_round_bit


# -- patterns: BY and GET -----------------------------------------------------------------

def _c_text(arg: bytes) -> bytes:
    """``arg`` as a C string sees it: up to the first NUL."""
    nul = arg.find(b"\0")
    return arg if nul < 0 else arg[:nul]


def lookup(db: Any, pattern: bytes, element: bytes) -> bytes | bytearray | None:
    """The value a BY/GET pattern names for ``element``: ``#`` is the element, the first
    ``*`` takes the element, ``key->field`` reads a hash field; None when missing, of
    the wrong type, or the pattern has no ``*``."""
    if pattern[:1] == b"#" and pattern[1:2] in (b"", b"\0"):
        return element
    text = _c_text(pattern)
    star = text.find(b"*")
    if star < 0:
        return None
    arrow = text.find(b"->", star + 1)
    if 0 <= arrow < len(text) - 2:
        key = pattern[:star] + element + pattern[star + 1:arrow]
        value = db.get_read(key)
        if type(value) is not RedisHash:
            return None
        return value.get(pattern[arrow + 2:])
    value = db.get_read(pattern[:star] + element + pattern[star + 1:])
    if type(value) is bytes or type(value) is bytearray:
        return value
    return None


# -- the command --------------------------------------------------------------------------------

def _word(arg: bytes) -> bytes:
    """An option name as strcasecmp sees it."""
    return _c_text(arg).lower()


def _from_script(ctx: Client) -> bool:
    """Whether a script runs this command (Redis then sorts a set even with BY nosort,
    so that the script's effects replicate deterministically)."""
    return getattr(ctx, "kind", None) == "lua"  # the scripts' client (ScriptHost)


def _load(source: Any, dontsort: bool, desc: bool, start: int, end: int) -> list[bytes]:
    """The elements to sort. Unsorted lists and sorted sets yield just the
    ``start..end`` range, walked backwards for DESC."""
    if source is None:
        return []
    size = len(source)
    if type(source) is RedisList:
        if not dontsort:
            return list(source)
        if end < start:
            return []
        if desc:
            items = source.slice(size - 1 - end, size - start)
            items.reverse()
            return items
        return source.slice(start, end + 1)
    if type(source) is ZSet:
        if not dontsort:
            return list(source.members())
        if end < start:
            return []
        if desc:
            return source.members_at(size - 1 - end, size - start, reverse=True)
        return source.members_at(start, end + 1)
    return source.listed()


def _sorted(ctx: Client, vector: list[bytes], by: bytes | None, alpha: bool, desc: bool,
            storing: bool, start: int, end: int) -> list[bytes]:
    """``vector`` in SORT's order (positions ``start..end`` at least, as Redis)."""
    db = ctx.db
    values: list[Any] = vector if by is None else [lookup(db, by, e) for e in vector]
    if not alpha:
        if by is None and all(map(_SMALL_INT.match, values)):
            scores: list[Any] = list(map(float, values))
        else:
            scores = [0.0 if value is None else c_score(value) for value in values]
            if None in scores:
                raise err(_NOT_A_DOUBLE)
        # Equal scores fall back to the elements' bytes: a total order, so any sort
        # agrees with Redis's. Two stable passes (bytes, then scores) beat tuple keys.
        # An element always gets the same score, so a dict can hold them.
        score_of = dict(zip(vector, scores, strict=True))
        ordered = sorted(vector, reverse=desc)
        ordered.sort(key=score_of.__getitem__, reverse=desc)
        return ordered
    if by is None:
        if storing or not any(b"\0" in element for element in vector):
            return sorted(vector, reverse=desc)
        return sorted(vector, key=_c_text, reverse=desc)  # stable, as glibc's qsort
    keyed = [((0, b"") if value is None else (1, bytes(value) if storing
                                               else _c_text(bytes(value))), element)
             for value, element in zip(values, vector, strict=True)]
    if (start != 0 or end != len(vector) - 1) and _has_ties(keyed):
        sign = -1 if desc else 1

        def cmp(x: tuple[Any, bytes], y: tuple[Any, bytes]) -> int:
            return sign * ((x[0] > y[0]) - (x[0] < y[0]))

        partial_quicksort(keyed, cmp, start, end)
    else:
        keyed.sort(key=itemgetter(0), reverse=desc)  # stable, as glibc's qsort
    return [element for _, element in keyed]


def _has_ties(keyed: list[tuple[Any, bytes]]) -> bool:
    """Whether distinct elements share a sort key (only then can an unstable sort
    show)."""
    return len({key for key, _ in keyed}) != len(set(keyed))


def _reads_any_key(ctx: Client, argv: list[bytes], readonly: bool) -> bool:
    """BY and GET patterns read keys the key specs can't name: only a user who may
    read every key can use them (Redis's ACLUserCheckCmdWithUnrestrictedKeyAccess)."""
    user = ctx.user
    if user.unrestricted:
        return True
    from taipan.acl.check import unrestricted_key_access  # (acl imports commands)

    command = ctx.server.acl.index.by_name["sort_ro" if readonly else "sort"]
    return unrestricted_key_access(user, command, argv)


def _sort(ctx: Client, argv: list[bytes], readonly: bool) -> list | int:
    desc = alpha = dontsort = False
    limit_start, limit_count = 0, -1
    by: bytes | None = None
    store: bytes | None = None
    gets: list[bytes] = []
    i, argc = 2, len(argv)
    while i < argc:
        word, left = _word(argv[i]), argc - i - 1
        if word == b"asc":
            desc = False
        elif word == b"desc":
            desc = True
        elif word == b"alpha":
            alpha = True
        elif word == b"limit" and left >= 2:
            limit_start, limit_count = to_int(argv[i + 1]), to_int(argv[i + 2])
            i += 2
        elif not readonly and word == b"store" and left >= 1:
            store = argv[i + 1]
            i += 1
        elif word == b"by" and left >= 1:
            by = argv[i + 1]
            if b"*" not in _c_text(by):
                dontsort = True  # sticks even if a later BY has a '*', as in Redis
            elif not _reads_any_key(ctx, argv, readonly):
                raise err("BY option of SORT denied due to insufficient ACL permissions.")
            i += 1
        elif word == b"get" and left >= 1:
            if not _reads_any_key(ctx, argv, readonly):
                raise err("GET option of SORT denied due to insufficient ACL permissions.")
            gets.append(argv[i + 1])
            i += 1
        else:
            raise SyntaxErr()
        i += 1

    db = ctx.db
    source = db.get_read(argv[1])
    if source is not None and type(source) not in _SORTABLE:
        raise WrongType()
    if dontsort and type(source) is RedisSet and (store is not None or _from_script(ctx)):
        dontsort, alpha, by = False, True, None

    size = len(source) if source is not None else 0
    start = min(max(limit_start, 0), size)
    count = min(max(limit_count, -1), size)
    end = size - 1 if count < 0 else start + count - 1
    if start >= size:
        start, end = size - 1, size - 2
    end = min(end, size - 1)

    vector = _load(source, dontsort, desc, start, end)
    if dontsort and type(source) is not RedisSet:
        start, end = 0, len(vector) - 1  # the range was applied while loading
    if not dontsort:
        vector = _sorted(ctx, vector, by, alpha, desc, store is not None, start, end)

    picked = vector[start:end + 1] if end >= start else []
    if store is None:
        if not gets:
            return picked
        return [lookup(db, pattern, element) for element in picked for pattern in gets]
    if gets:
        items = RedisList()
        for element in picked:
            for pattern in gets:
                value = lookup(db, pattern, element)
                items.append(b"" if value is None else bytes(value))
    else:
        items = RedisList(picked)
    if items:
        db.set(store, items)  # replaces any value and TTL; counts one change
        db.stats.dirty += len(items) - 1
        db.notify(ev.LIST, b"sortstore", store)
    else:
        db.delete_with_event(store)
    return len(items)


_COMPLEXITY = ("O(N+M*log(M)) where N is the number of elements in the list or set to sort, "
               "and M the number of returned elements. When the elements are not sorted, "
               "complexity is O(N).")
_SOURCE_SPEC = {"flags": "RO access", "index": 1}
_PATTERN_SPEC = {"flags": "RO access", "unknown": True,
                 "notes": "For the optional BY/GET keyword. It is marked 'unknown' because "
                          "the key names derive from the content of the key we sort"}
_STORE_SPEC = {"flags": "OW update", "unknown": True,
               "notes": "For the optional STORE keyword. It is marked 'unknown' because the "
                        "keyword can appear anywhere in the argument array"}


@commands.command("SORT", arity=-2, flags="write denyoom", keys=(1, 1, 1),
                  acl="set sortedset list dangerous -keyspace",
                  key_specs=(_SOURCE_SPEC, _PATTERN_SPEC, _STORE_SPEC),
                  summary="Sort the elements in a list, set or sorted set", since="1.0.0",
                  complexity=_COMPLEXITY)
def sort(ctx: Client, argv: list[bytes]) -> list | int:
    """SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA] [STORE destination]"""
    return _sort(ctx, argv, readonly=False)


@commands.command("SORT_RO", arity=-2, flags="readonly", keys=(1, 1, 1),
                  acl="set sortedset list dangerous -keyspace",
                  key_specs=(_SOURCE_SPEC, _PATTERN_SPEC),
                  summary="Sort the elements in a list, set or sorted set. Read-only variant "
                          "of SORT.",
                  since="7.0.0", complexity=_COMPLEXITY)
def sort_ro(ctx: Client, argv: list[bytes]) -> list | int:
    """SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA]"""
    return _sort(ctx, argv, readonly=True)


# -- COMMAND GETKEYS ----------------------------------------------------------------------------

_SOURCE_FLAGS = ("RO", "access")
_STORE_FLAGS = ("OW", "update")
# Options that take arguments, and how many, as Redis's sortGetKeys skips them.
_OPTION_ARGS = {b"limit": 2, b"get": 1, b"by": 1}


def sort_keys(argv: list[bytes]) -> KeyRefs:
    """SORT's keys as Redis's getkeys proc finds them: the source, and the last STORE
    destination. The scan steps onto the destination itself as if it were an option,
    exactly as Redis's does."""
    keys: KeyRefs = [(1, _SOURCE_FLAGS)]
    destination = 0
    i, argc = 2, len(argv)
    while i < argc:
        word = _word(argv[i])
        skip = _OPTION_ARGS.get(word)
        if skip is not None:
            i += skip
        elif word == b"store" and i + 1 < argc:
            destination = i + 1
        i += 1
    if destination:
        keys.append((destination, _STORE_FLAGS))
    return keys


def sort_ro_keys(argv: list[bytes]) -> KeyRefs:
    """SORT_RO's only key: the source."""
    return [(1, _SOURCE_FLAGS)]
