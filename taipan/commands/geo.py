"""Geo commands on single members: GEOADD, GEOPOS, GEODIST, GEOHASH.

A geo index is a plain sorted set whose scores are 52-bit geohashes
(``taipan.types.geohash``); TYPE says ``zset`` and every sorted-set command works on
it. The searches (GEOSEARCH, GEORADIUS, ...) live in ``geo_search``; the argument
helpers and reply formats both modules share are here.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from taipan.commands.args import to_float
from taipan.commands.sorted_sets import zadd
from taipan.commands.table import CommandGroup
from taipan.commands.zset_args import read_zset
from taipan.errors import ReplyError, SyntaxErr
from taipan.protocol.reply import NULL_ARRAY, DoubleText
from taipan.types.geohash import (
    decode_score,
    distance,
    geohash_string,
    score_of,
    valid_lon_lat,
)
from taipan.types.zset import ZSet

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("geo")

UNSUPPORTED_UNIT = "ERR unsupported unit provided. please use M, KM, FT, MI"
_UNITS = {b"M": 1.0, b"KM": 1000.0, b"FT": 0.3048, b"MI": 1609.34}


# -- replies ----------------------------------------------------------------------------

def human_double(value: float) -> DoubleText:
    text = b"%.17f" % value
    if b"." in text:
        text = text.rstrip(b"0")
        if text.endswith(b"."):
            text = text[:-1]
    if text == b"-0":
        text = b"0"
    return DoubleText(text)


def coordinates(lon: float, lat: float) -> list[DoubleText]:
    return [human_double(lon), human_double(lat)]


def distance_text(value: float) -> bytes:
    """A distance as Redis replies it: four decimals, a bulk string even in RESP3."""
    if math.isnan(value):  # C prints the NaN's sign, Python never does
        return b"-nan" if math.copysign(1.0, value) < 0 else b"nan"
    return b"%.4f" % value


# -- arguments --------------------------------------------------------------------------

def word(arg: bytes) -> bytes:
    """An option as strcasecmp sees it: up to the first NUL, upper-cased."""
    nul = arg.find(b"\0")
    return (arg if nul < 0 else arg[:nul]).upper()


def unit_factor(arg: bytes) -> float:
    """Metres per ``arg`` unit (m, km, ft, mi, any case)."""
    factor = _UNITS.get(word(arg))
    if factor is None:
        raise ReplyError(UNSUPPORTED_UNIT)
    return factor


def lon_lat(lon_arg: bytes, lat_arg: bytes) -> tuple[float, float]:
    """A longitude, latitude pair within the range geohashes cover."""
    lon = to_float(lon_arg)
    lat = to_float(lat_arg)
    if not valid_lon_lat(lon, lat):
        raise ReplyError(f"ERR invalid longitude,latitude pair {lon:f},{lat:f}")
    return lon, lat


def as_long_long(score: float) -> int:
    """``(long long)score`` as x86-64 C computes it (WITHHASH)."""
    if math.isnan(score) or not -9223372036854775808.0 <= score < 9223372036854775808.0:
        return -(1 << 63)
    return int(score)


# -- commands ---------------------------------------------------------------------------

@commands.command("GEOADD", arity=-5, flags="write denyoom", keys=(1, 1, 1),
                  key_specs=("RW update",),
                  summary="Add one or more geospatial items in the geospatial index "
                          "represented using a sorted set",
                  since="3.2.0",
                  complexity="O(log(N)) for each item added, where N is the number of "
                             "elements in the sorted set.",
                  history=(("6.2.0", "Added the `CH`, `NX` and `XX` options."),))
def geoadd(ctx: Client, argv: list[bytes]) -> Any:
    """GEOADD key [NX | XX] [CH] longitude latitude member [longitude latitude member ...]"""
    first = 2
    nx = xx = False
    while first < len(argv):
        option = word(argv[first])
        if option == b"NX":
            nx = True
        elif option == b"XX":
            xx = True
        elif option != b"CH":
            break
        first += 1
    if (len(argv) - first) % 3 or (nx and xx):
        raise SyntaxErr()
    # Redis turns the command into a ZADD (options kept) and runs that: replies,
    # errors and what is propagated are ZADD's.
    zadd_argv = [b"zadd", *argv[1:first]]
    for i in range(first, len(argv), 3):
        lon, lat = lon_lat(argv[i], argv[i + 1])
        zadd_argv.append(b"%d" % score_of(lon, lat))
        zadd_argv.append(argv[i + 2])
    result = zadd(ctx, zadd_argv)
    ctx.propagate_argv = zadd_argv
    return result


@commands.command("GEOPOS", arity=-2, flags="readonly", keys=(1, 1, 1),
                  summary="Returns longitude and latitude of members of a geospatial index",
                  since="3.2.0", complexity="O(N) where N is the number of members requested.")
def geopos(ctx: Client, argv: list[bytes]) -> list:
    """GEOPOS key [member [member ...]]"""
    zset = read_zset(ctx, argv[1])
    positions: list = []
    for member in argv[2:]:
        score = None if zset is None else zset.score(member)
        positions.append(NULL_ARRAY if score is None else coordinates(*decode_score(score)))
    return positions


@commands.command("GEODIST", arity=-4, flags="readonly", keys=(1, 1, 1),
                  summary="Returns the distance between two members of a geospatial index",
                  since="3.2.0", complexity="O(log(N))")
def geodist(ctx: Client, argv: list[bytes]) -> bytes | None:
    """GEODIST key member1 member2 [M | KM | FT | MI]"""
    if len(argv) > 5:
        raise SyntaxErr()
    factor = unit_factor(argv[4]) if len(argv) == 5 else 1.0
    zset: ZSet | None = read_zset(ctx, argv[1])
    if zset is None:
        return None
    first, second = zset.score(argv[2]), zset.score(argv[3])
    if first is None or second is None:
        return None
    return distance_text(distance(*decode_score(first), *decode_score(second)) / factor)


@commands.command("GEOHASH", arity=-2, flags="readonly", keys=(1, 1, 1),
                  summary="Returns members of a geospatial index as standard geohash strings",
                  since="3.2.0",
                  complexity="O(log(N)) for each member requested, where N is the number of "
                             "elements in the sorted set.")
def geohash(ctx: Client, argv: list[bytes]) -> list:
    """GEOHASH key [member [member ...]]"""
    zset = read_zset(ctx, argv[1])
    hashes: list = []
    for member in argv[2:]:
        score = None if zset is None else zset.score(member)
        hashes.append(None if score is None else geohash_string(score))
    return hashes
