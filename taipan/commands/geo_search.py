"""Geo searches: GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and the _RO forms.

A search scans the sorted set over the score ranges of nine geohash cells (the one
holding the centre and its neighbours, sized from the search radius), keeps the points
inside the shape, then sorts them by distance. Which points are found, their order
(ties included) and every number in the reply follow Redis's own steps: the cells
(``geohash.search_cells``), the scan order (cell by cell, score order within each),
the early stop of ``COUNT n ANY`` and the sort (``geo_order``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from taipan.commands.args import to_float, to_int
from taipan.commands.geo import (
    as_long_long,
    coordinates,
    distance_text,
    lon_lat,
    unit_factor,
    word,
)
from taipan.commands.geo_order import Point, order_points
from taipan.commands.table import CommandGroup
from taipan.commands.zset_args import listpack_limits, read_zset
from taipan.errors import ReplyError, SyntaxErr, c_string
from taipan.keyspace import events as ev
from taipan.types.geohash import NO_CELL, Shape, decode_score, score_range, search_cells
from taipan.types.zset import ZSet

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("geo")

COULD_NOT_DECODE = "ERR could not decode requested zset member"

# Search variants, as Redis's flags.
_BY_COORDS = 1  # GEORADIUS: centre given as longitude latitude
_BY_MEMBER = 2  # GEORADIUSBYMEMBER: centre is a member
_NO_STORE = 4  # the _RO forms refuse STORE / STOREDIST
_SEARCH = 8  # GEOSEARCH syntax (FROMMEMBER/FROMLONLAT, BYRADIUS/BYBOX)
_SEARCH_STORE = 16  # GEOSEARCHSTORE

_ASC, _DESC = 1, 2


def _radius(value_arg: bytes, unit_arg: bytes, shape: Shape) -> None:
    radius = to_float(value_arg, ReplyError("ERR need numeric radius"))
    if radius < 0:
        raise ReplyError("ERR radius cannot be negative")
    shape.radius = radius
    shape.conversion = unit_factor(unit_arg)
    shape.is_box = False


def _box(width_arg: bytes, height_arg: bytes, unit_arg: bytes, shape: Shape) -> None:
    width = to_float(width_arg, ReplyError("ERR need numeric width"))
    height = to_float(height_arg, ReplyError("ERR need numeric height"))
    if height < 0 or width < 0:
        raise ReplyError("ERR height or width cannot be negative")
    shape.width, shape.height = width, height
    shape.conversion = unit_factor(unit_arg)
    shape.is_box = True


def _centre_of(zset: ZSet, member: bytes, shape: Shape) -> None:
    score = zset.score(member)
    if score is None:
        raise ReplyError(COULD_NOT_DECODE)
    shape.lon, shape.lat = decode_score(score)


def _search(ctx: Client, argv: list[bytes], src: int, flags: int) -> Any:
    zset = read_zset(ctx, argv[src])
    shape = Shape()
    store_key: bytes | None = None
    if flags & _BY_COORDS:
        base = 6
        shape.lon, shape.lat = lon_lat(argv[2], argv[3])
        _radius(argv[4], argv[5], shape)
    elif flags & _BY_MEMBER:
        base = 5
        if zset is not None:  # with no set, only the options are checked
            _centre_of(zset, argv[2], shape)
            _radius(argv[3], argv[4], shape)
    else:
        base = 2
        if flags & _SEARCH_STORE:
            base = 3
            store_key = argv[1]

    with_dist = with_hash = with_coord = any_ = store_dist = False
    from_member = from_lonlat = by_radius = by_box = False
    sort = 0
    count = 0
    search = bool(flags & _SEARCH)
    stores = not flags & (_NO_STORE | _SEARCH)
    argc = len(argv)
    i = base
    while i < argc:
        option = word(argv[i])
        left = argc - i - 1  # arguments after this one
        if option == b"WITHDIST":
            with_dist = True
        elif option == b"WITHHASH":
            with_hash = True
        elif option == b"WITHCOORD":
            with_coord = True
        elif option == b"ANY":
            any_ = True
        elif option == b"ASC":
            sort = _ASC
        elif option == b"DESC":
            sort = _DESC
        elif option == b"COUNT" and left >= 1:
            count = to_int(argv[i + 1])
            if count <= 0:
                raise ReplyError("ERR COUNT must be > 0")
            i += 1
        elif option in (b"STORE", b"STOREDIST") and left >= 1 and stores:
            store_key = argv[i + 1]
            store_dist = option == b"STOREDIST"
            i += 1
        elif option == b"STOREDIST" and flags & _SEARCH_STORE:
            store_dist = True
        elif option == b"FROMMEMBER" and left >= 1 and search and not from_lonlat:
            if zset is not None:
                _centre_of(zset, argv[i + 1], shape)
            from_member = True
            i += 1
        elif option == b"FROMLONLAT" and left >= 2 and search and not from_member:
            shape.lon, shape.lat = lon_lat(argv[i + 1], argv[i + 2])
            from_lonlat = True
            i += 2
        elif option == b"BYRADIUS" and left >= 2 and search and not by_box:
            _radius(argv[i + 1], argv[i + 2], shape)
            by_radius = True
            i += 2
        elif option == b"BYBOX" and left >= 3 and search and not by_radius:
            _box(argv[i + 1], argv[i + 2], argv[i + 3], shape)
            by_box = True
            i += 3
        else:
            raise SyntaxErr()
        i += 1

    if store_key is not None and (with_dist or with_hash or with_coord):
        raise ReplyError("ERR %s is not compatible with WITHDIST, WITHHASH and WITHCOORD "
                         "options" % ("GEOSEARCHSTORE" if flags & _SEARCH_STORE
                                      else "STORE option in GEORADIUS"))
    if search and not (from_member or from_lonlat):
        raise ReplyError("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for "
                         + c_string(argv[0]))
    if search and not (by_radius or by_box):
        raise ReplyError("ERR exactly one of BYRADIUS and BYBOX can be specified for "
                         + c_string(argv[0]))
    if any_ and not count:
        raise ReplyError("ERR the ANY argument requires COUNT argument")

    if zset is None:
        if store_key is not None:
            ctx.db.delete_with_event(store_key)
            return 0
        return []

    if count and not sort and not any_:
        sort = _ASC  # the nearest COUNT points
    points = find_points(zset, shape, count if any_ else 0)
    if not points and store_key is None:
        return []
    returned = len(points) if not count or len(points) < count else count
    if sort:
        order_points(points, returned, sort == _DESC)
    conversion = shape.conversion
    if store_key is not None:
        event = b"geosearchstore" if search else b"georadiusstore"
        return _store(ctx, store_key, points[:returned], conversion, store_dist, event)
    extras = with_dist or with_hash or with_coord
    results: list = []
    for dist, member, score, lon, lat in points[:returned]:
        if not extras:
            results.append(member)
            continue
        entry: list = [member]
        if with_dist:
            entry.append(distance_text(dist / conversion))
        if with_hash:
            entry.append(as_long_long(score))
        if with_coord:
            entry.append(coordinates(lon, lat))
        results.append(entry)
    return results


def find_points(zset: ZSet, shape: Shape, limit: int) -> list[Point]:
    """The points inside the shape, in the order Redis's scan meets them; with a
    ``limit`` (COUNT n ANY) the scan stops once that many are found."""
    cells = search_cells(shape)
    match = shape.matcher()
    points: list[Point] = []
    last = 0  # like Redis, never compares a cell with the centre cell (index 0)
    for index, cell in enumerate(cells):
        if cell == NO_CELL:
            continue
        if last and cell == cells[last]:
            continue  # huge radii: neighbours can coincide
        if limit and len(points) >= limit:
            break
        low, high = score_range(cell)
        start, stop = zset.score_span(low, False, high, True)
        for member, score in _entries(zset, start, stop):
            found = match(score)
            if found is not None:
                points.append([found[0], member, score, found[1], found[2]])
                if limit and len(points) >= limit:
                    break
        last = index
    return points


def _entries(zset: ZSet, start: int, stop: int) -> Iterator[tuple[bytes, float]]:
    """(member, score) at positions [start, stop), fetched a chunk at a time so an
    early stop does not decode the whole range."""
    chunk = 16
    while start < stop:
        end = min(stop, start + chunk)
        yield from zset.entries(start, end)
        start = end
        chunk = min(chunk * 4, 4096)


def _store(ctx: Client, key: bytes, points: list[Point], conversion: float,
           store_dist: bool, event: bytes) -> int:
    db = ctx.db
    if not points:
        db.delete_with_event(key)
        return 0
    max_entries, max_value = listpack_limits(ctx)
    entries = [(member, dist / conversion if store_dist else score)
               for dist, member, score, _, _ in points]
    listpack = len(entries) <= max_entries and all(
        len(member) <= max_value for member, _ in entries)
    db.set(key, ZSet.from_entries(entries, listpack))
    db.stats.dirty += len(entries) - 1  # Redis counts each member stored
    db.notify(ev.ZSET, event, key)
    return len(entries)


# -- commands ---------------------------------------------------------------------------

_RADIUS_COMPLEXITY = ("O(N+log(M)) where N is the number of elements inside the bounding box "
                      "of the circular area delimited by center and radius and M is the "
                      "number of items inside the index.")
_SEARCH_COMPLEXITY = ("O(N+log(M)) where N is the number of elements in the grid-aligned "
                      "bounding box area around the shape provided as the filter and M is the "
                      "number of items inside the shape")
_UPPERCASE_UNITS = ("7.0.0", "Added support for uppercase unit names.")
_ANY_OPTION = ("6.2.0", "Added the `ANY` option for `COUNT`.")


def _store_specs(after: int) -> tuple[Any, ...]:
    return ("RO access",
            {"flags": "OW update", "keyword": "STORE", "startfrom": after},
            {"flags": "OW update", "keyword": "STOREDIST", "startfrom": after})


@commands.command("GEORADIUS", arity=-6, flags="write denyoom", keys=(1, 1, 1),
                  key_specs=_store_specs(6),
                  summary="Query a sorted set representing a geospatial index to fetch "
                          "members matching a given maximum distance from a point",
                  since="3.2.0", complexity=_RADIUS_COMPLEXITY, doc_flags="deprecated",
                  deprecated_since="6.2.0",
                  replaced_by="`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument",
                  history=(_ANY_OPTION, _UPPERCASE_UNITS))
def georadius(ctx: Client, argv: list[bytes]) -> Any:
    """GEORADIUS key longitude latitude radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC] [STORE key] [STOREDIST key]"""
    return _search(ctx, argv, 1, _BY_COORDS)


@commands.command("GEORADIUSBYMEMBER", arity=-5, flags="write denyoom", keys=(1, 1, 1),
                  key_specs=_store_specs(5),
                  summary="Query a sorted set representing a geospatial index to fetch "
                          "members matching a given maximum distance from a member",
                  since="3.2.0", complexity=_RADIUS_COMPLEXITY, doc_flags="deprecated",
                  deprecated_since="6.2.0",
                  replaced_by="`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and "
                              "`FROMMEMBER` arguments",
                  history=(_UPPERCASE_UNITS,))
def georadiusbymember(ctx: Client, argv: list[bytes]) -> Any:
    """GEORADIUSBYMEMBER key member radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC] [STORE key] [STOREDIST key]"""
    return _search(ctx, argv, 1, _BY_MEMBER)


@commands.command("GEORADIUS_RO", arity=-6, flags="readonly", keys=(1, 1, 1),
                  summary="A read-only variant for GEORADIUS", since="3.2.10",
                  complexity=_RADIUS_COMPLEXITY, doc_flags="deprecated",
                  deprecated_since="6.2.0",
                  replaced_by="`GEOSEARCH` with the `BYRADIUS` argument",
                  history=(_ANY_OPTION,))
def georadius_ro(ctx: Client, argv: list[bytes]) -> Any:
    """GEORADIUS_RO key longitude latitude radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC]"""
    return _search(ctx, argv, 1, _BY_COORDS | _NO_STORE)


@commands.command("GEORADIUSBYMEMBER_RO", arity=-5, flags="readonly", keys=(1, 1, 1),
                  summary="A read-only variant for GEORADIUSBYMEMBER", since="3.2.10",
                  complexity=_RADIUS_COMPLEXITY, doc_flags="deprecated",
                  deprecated_since="6.2.0",
                  replaced_by="`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments")
def georadiusbymember_ro(ctx: Client, argv: list[bytes]) -> Any:
    """GEORADIUSBYMEMBER_RO key member radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC]"""
    return _search(ctx, argv, 1, _BY_MEMBER | _NO_STORE)


@commands.command("GEOSEARCH", arity=-7, flags="readonly", keys=(1, 1, 1),
                  summary="Query a sorted set representing a geospatial index to fetch "
                          "members inside an area of a box or a circle.",
                  since="6.2.0", complexity=_SEARCH_COMPLEXITY, history=(_UPPERCASE_UNITS,))
def geosearch(ctx: Client, argv: list[bytes]) -> Any:
    """GEOSEARCH key FROMMEMBER member | FROMLONLAT longitude latitude BYRADIUS radius M | KM | FT | MI | BYBOX width height M | KM | FT | MI [ASC | DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]"""
    return _search(ctx, argv, 1, _SEARCH)


@commands.command("GEOSEARCHSTORE", arity=-8, flags="write denyoom", keys=(1, 2, 1),
                  key_specs=("OW update", "RO access"),
                  summary="Query a sorted set representing a geospatial index to fetch "
                          "members inside an area of a box or a circle, and store the result "
                          "in another key.",
                  since="6.2.0", complexity=_SEARCH_COMPLEXITY, history=(_UPPERCASE_UNITS,))
def geosearchstore(ctx: Client, argv: list[bytes]) -> Any:
    """GEOSEARCHSTORE destination source FROMMEMBER member | FROMLONLAT longitude latitude BYRADIUS radius M | KM | FT | MI | BYBOX width height M | KM | FT | MI [ASC | DESC] [COUNT count [ANY]] [STOREDIST]"""
    return _search(ctx, argv, 2, _SEARCH | _SEARCH_STORE)
