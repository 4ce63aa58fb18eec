"""Geo commands: raw replies identical to a real Redis 7.0, RESP2 and RESP3.

Seeded random points (clusters, the whole globe, duplicates, the poles and the
antimeridian) and seeded random searches over them, compared byte for byte: which
points are found, their order (ties included, with and without COUNT), distances,
hashes, coordinates and what the STORE forms leave behind. Then every error path.
"""

from __future__ import annotations

import random

import pytest

Script = list[tuple]

_METERS_PER_UNIT = {"m": 1.0, "km": 1000.0, "mi": 1609.34, "ft": 0.3048, "KM": 1000.0,
                    "Mi": 1609.34}


def _points(rng: random.Random, count: int) -> list[tuple[str, str, str]]:
    """(longitude, latitude, member) triples: clusters, the globe, exact duplicates."""
    hubs = [(2.35, 48.85), (-73.98, 40.75), (179.95, -84.9), (0.0, 0.0), (-179.99, 10.0)]
    points = []
    for n in range(count):
        roll = rng.random()
        if roll < 0.35:
            lon, lat = rng.uniform(-180, 180), rng.uniform(-85.05, 85.05)
        elif roll < 0.75:
            lon = min(max(2.35 + rng.gauss(0, 0.6), -180), 180)
            lat = 48.85 + rng.gauss(0, 0.6)
        else:
            lon, lat = rng.choice(hubs)
        points.append((f"{lon:.6f}", f"{lat:.6f}", f"p{n}"))
    return points


def _load(differ, key: str, points: list[tuple[str, str, str]]) -> list[str]:
    for start in range(0, len(points), 100):
        args: list[str] = []
        for lon, lat, member in points[start:start + 100]:
            args += [lon, lat, member]
        differ.check("GEOADD", key, *args, resp=(2,))
    return [member for _, _, member in points]


def _random_search(rng: random.Random, members: list[str]) -> tuple[list[str], list[str],
                                                                      list[str]]:
    """(centre, shape, options) arguments of a random GEOSEARCH."""
    unit = rng.choice(list(_METERS_PER_UNIT))
    roll = rng.random()
    if roll < 0.45:
        centre = ["FROMMEMBER", rng.choice(members)]
    elif roll < 0.75:
        centre = ["FROMLONLAT", f"{2.35 + rng.gauss(0, 1):.4f}",
                  f"{48.85 + rng.gauss(0, 1):.4f}"]
    else:
        centre = ["FROMLONLAT", f"{rng.uniform(-180, 180):.5f}", f"{rng.uniform(-85, 85):.5f}"]
    size = 10 ** rng.uniform(0, 7.3) / _METERS_PER_UNIT[unit]
    if rng.random() < 0.5:
        shape = ["BYRADIUS", f"{size:.3f}", unit]
    else:
        shape = ["BYBOX", f"{size:.3f}", f"{size * rng.uniform(0.2, 3):.3f}", unit]
    options: list[str] = []
    if rng.random() < 0.5:
        options.append(rng.choice(["ASC", "DESC", "asc"]))
    if rng.random() < 0.4:
        options += ["COUNT", str(rng.randint(1, 40))]
        if rng.random() < 0.3:
            options.append("ANY")
    return centre, shape, options


_WITH = ("WITHCOORD", "WITHDIST", "WITHHASH")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_searches_match(differ, seed: int) -> None:
    rng = random.Random(seed)
    members = _load(differ, "pts", _points(rng, 300))
    differ.check("OBJECT", "ENCODING", "pts")
    for _ in range(150):
        centre, shape, options = _random_search(rng, members)
        extras = [w for w in _WITH if rng.random() < 0.35]
        differ.check("GEOSEARCH", "pts", *centre, *shape, *options, *extras)
        if shape[0] == "BYRADIUS" and rng.random() < 0.25:
            if centre[0] == "FROMMEMBER":
                differ.check("GEORADIUSBYMEMBER_RO", "pts", centre[1], *shape[1:], *options,
                             *extras)
            else:
                differ.check("GEORADIUS_RO", "pts", *centre[1:], *shape[1:], *options, *extras)


@pytest.mark.parametrize("seed", [4, 5])
def test_random_searches_on_a_listpack_match(differ, seed: int) -> None:
    rng = random.Random(seed)
    members = _load(differ, "few", _points(rng, 60))
    assert differ.check("OBJECT", "ENCODING", "few") == b"$8\r\nlistpack\r\n"
    for _ in range(100):
        centre, shape, options = _random_search(rng, members)
        differ.check("GEOSEARCH", "few", *centre, *shape, *options, "WITHDIST", "WITHHASH")


@pytest.mark.parametrize("seed", [6, 7])
def test_random_stores_match(differ, seed: int) -> None:
    rng = random.Random(seed)
    members = _load(differ, "pts", _points(rng, 250))
    for n in range(40):
        centre, shape, options = _random_search(rng, members)
        store = ["STOREDIST"] if n % 2 else []
        differ.run([("GEOSEARCHSTORE", "dst", "pts", *centre, *shape, *options, *store),
                    ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
                    ("OBJECT", "ENCODING", "dst")])
        if shape[0] == "BYRADIUS":
            keyword = "STOREDIST" if n % 2 else "STORE"
            if centre[0] == "FROMMEMBER":
                command = ("GEORADIUSBYMEMBER", "pts", centre[1], *shape[1:])
            else:
                command = ("GEORADIUS", "pts", *centre[1:], *shape[1:])
            differ.run([(*command, *options, keyword, "dst2"),
                        ("ZRANGE", "dst2", "0", "-1", "WITHSCORES"),
                        ("EXISTS", "dst2")])


def test_member_queries_match(differ) -> None:
    rng = random.Random(8)
    members = _load(differ, "pts", _points(rng, 200))
    for _ in range(60):
        a, b = rng.choice(members), rng.choice(members)
        differ.check("GEODIST", "pts", a, b, rng.choice(["m", "km", "mi", "ft", "FT"]))
        differ.check("GEOPOS", "pts", a, b, "nosuch")
        differ.check("GEOHASH", "pts", a, "nosuch", b)
    differ.check("GEODIST", "pts", members[0], members[1])


def test_ties_and_partial_sorts_match(differ) -> None:
    """Many points at equal distances: the order of ties is Redis's, whether every
    result is returned (stable sort) or COUNT cuts them (Redis's partial quicksort)."""
    rng = random.Random(9)
    spots = [(2.35, 48.85), (2.36, 48.85), (2.35, 48.86), (2.3501, 48.8501)]
    args: list[str] = []
    for _ in range(150):
        lon, lat = rng.choice(spots)
        args += [str(lon), str(lat), f"m{rng.randint(0, 999):03d}"]
    differ.check("GEOADD", "t", *args, resp=(2,))
    for count in (1, 2, 5, 7, 8, 20, 41, 60, 140, 149, 150, 500):
        for order in ([], ["ASC"], ["DESC"]):
            differ.check("GEOSEARCH", "t", "FROMLONLAT", "2.35", "48.85", "BYRADIUS", "10",
                         "km", "COUNT", str(count), *order)
            differ.check("GEOSEARCH", "t", "FROMLONLAT", "2.351", "48.851", "BYBOX", "10",
                         "10", "km", "COUNT", str(count), *order, "WITHDIST")
            differ.check("GEOSEARCH", "t", "FROMLONLAT", "2.351", "48.851", "BYBOX", "10",
                         "10", "km", "COUNT", str(count), "ANY", *order)
    differ.check("GEOSEARCH", "t", "FROMMEMBER", args[2], "BYRADIUS",
                 "5", "km", "DESC", "WITHCOORD")


def test_edges_of_the_map_match(differ) -> None:
    differ.run([("GEOADD", "e", "0", "85.05112878", "n1", "90", "85.05", "n2", "-90", "85",
                 "n3", "180", "85", "n4", "0", "-85.05112878", "s1", "179.99", "0", "e1",
                 "-179.99", "0", "w1", "180", "0", "e2", "-180", "0", "w2", "0", "0", "o",
                 "0.0001", "0.0001", "o2", "-0.0001", "-0.0001", "o3")])
    differ.check("GEOPOS", "e", "n1", "n2", "s1", "e2", "w2", "o", "o2", "o3")
    differ.check("GEOHASH", "e", "n1", "n2", "s1", "e2", "w2", "o", "o2", "o3")
    for centre in (("0", "85"), ("180", "0"), ("-180", "0"), ("179.999", "0"), ("0", "0"),
                   ("0", "-85.05112878"), ("-0.00001", "-0.000001")):
        for shape in (("BYRADIUS", "1000", "km"), ("BYRADIUS", "5000", "km"),
                      ("BYRADIUS", "0", "m"), ("BYRADIUS", "1e10", "km"),
                      ("BYRADIUS", "inf", "m"), ("BYRADIUS", "1e-300", "km"),
                      ("BYBOX", "500", "500", "km"), ("BYBOX", "0", "0", "m"),
                      ("BYBOX", "100", "0", "km"), ("BYBOX", "inf", "inf", "km")):
            differ.check("GEOSEARCH", "e", "FROMLONLAT", *centre, *shape, "WITHDIST",
                         "WITHCOORD", "WITHHASH", "ASC")


def test_scores_that_are_not_geohashes_match(differ) -> None:
    """A sorted set with arbitrary scores still decodes the way Redis's casts do."""
    differ.run([("ZADD", "w", "-1", "neg", "-1.5", "negf", "0", "zero", "0.5", "half",
                 "4503599627370496", "big", "9007199254740993", "bigger", "1e30", "huge",
                 "-1e30", "nhuge", "inf", "pinf", "-inf", "ninf", "4503599627370495",
                 "max52")])
    names = ("neg", "negf", "zero", "half", "big", "bigger", "huge", "nhuge", "pinf", "ninf",
             "max52")
    differ.check("GEOPOS", "w", *names)
    differ.check("GEOHASH", "w", *names)
    differ.check("GEODIST", "w", "neg", "big")
    differ.check("GEODIST", "w", "huge", "ninf", "mi")
    for member in ("zero", "neg", "huge"):
        differ.check("GEOSEARCH", "w", "FROMMEMBER", member, "BYRADIUS", "50000", "km",
                     "WITHHASH", "WITHCOORD", "WITHDIST")
    differ.check("GEORADIUSBYMEMBER", "w", "ninf", "100", "km", "WITHHASH")


def test_geoadd_options_and_values_match(differ) -> None:
    differ.run([
        ("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669",
         "Catania"),
        ("GEOADD", "g", "XX", "1", "1", "Palermo", "2", "2", "new"),
        ("GEOADD", "g", "NX", "1", "1", "Catania", "2", "2", "new"),
        ("GEOADD", "g", "NX", "CH", "1", "1", "Palermo", "2", "2", "new2"),
        ("GEOADD", "g", "XX", "CH", "3", "3", "Palermo", "2", "2", "new3"),
        ("GEOADD", "g", "ch", "xx", "3", "3", "Palermo"),
        ("GEOADD", "g", "CH", "3", "3", "Palermo", "4", "4", "Palermo"),
        ("GEOADD", "g", "0x10", "1", "hex", "-0", "-0", "negzero", "1.5e-320", "1e-310",
         "tiny"),
        ("GEOPOS", "g", "Palermo", "Catania", "new", "new2", "new3", "hex", "negzero", "tiny"),
        ("TYPE", "g"),
        ("OBJECT", "ENCODING", "g"),
        ("ZRANGE", "g", "0", "-1", "WITHSCORES"),
        ("GEOADD", "g", "10", "-85.05112878", "south", "10", "85.05112878", "north", "180",
         "0", "east", "-180", "0", "west"),
        ("ZSCORE", "g", "north"),
        ("ZSCORE", "g", "east"),
    ])
    differ.check("GEOPOS", "g", "south", "north", "east", "west")
    differ.check("GEOHASH", "g", "south", "north", "east", "west")


_ERRORS: Script = [
    ("GEOADD", "g", "200", "10", "x"),
    ("GEOADD", "g", "10", "85.06", "x"),
    ("GEOADD", "g", "10", "-85.0511288", "x"),
    ("GEOADD", "g", "inf", "10", "x"),
    ("GEOADD", "g", "-inf", "-inf", "x"),
    ("GEOADD", "g", "1e300", "10", "x"),
    ("GEOADD", "g", "abc", "10", "x"),
    ("GEOADD", "g", "10", "nan", "x"),
    ("GEOADD", "g", " 1", "1", "x"),
    ("GEOADD", "g", "1e400", "1", "x"),
    ("GEOADD", "g", "1", "2"),
    ("GEOADD", "g", "1", "2", "x", "3"),
    ("GEOADD", "g", "NX", "XX", "1", "2", "x"),
    ("GEOADD", "g", "CH", "CH", "CH"),
    ("GEOADD", "g", "GT", "1", "1", "x"),
    ("GEOADD", "g", "1", "1", "x", "GT"),
    ("GEOADD", "s", "1", "1", "x"),
    ("GEOADD", "s", "200", "1", "x"),
    ("GEOPOS", "s", "a"),
    ("GEOPOS", "g"),
    ("GEOHASH", "s", "a"),
    ("GEOHASH", "nokey"),
    ("GEODIST", "s", "a", "b"),
    ("GEODIST", "g", "a", "b", "parsec"),
    ("GEODIST", "nokey", "a", "b", "parsec"),
    ("GEODIST", "g", "a", "b", "km", "extra"),
    ("GEODIST", "g", "a"),
    ("GEODIST", "nokey", "a", "b"),
    ("GEODIST", "g", "Palermo", "nosuch"),
    ("GEOSEARCH", "s", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "extra"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "-1", "km"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "abc", "km"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "parsec"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYBOX", "1", "x", "km"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYBOX", "x", "1", "km"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYBOX", "-1", "1", "km"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYBOX", "1", "-1", "km"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYBOX", "1", "1", "kmx"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYBOX", "1", "1", "km", "BYRADIUS", "1",
     "km"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "BYBOX", "1", "1",
     "km"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "FROMMEMBER", "Palermo", "BYRADIUS", "1",
     "km"),
    ("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "FROMLONLAT", "15", "37", "BYRADIUS", "1",
     "km"),
    ("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "FROMMEMBER", "Catania", "BYRADIUS", "100",
     "km", "WITHDIST"),
    ("GEOSEARCH", "g", "BYRADIUS", "1", "km", "BYRADIUS", "200", "km", "FROMMEMBER",
     "Palermo"),
    ("GEOSEARCH", "g", "FROMMEMBER", "nosuch", "BYRADIUS", "1", "km"),
    ("GEOSEARCH", "nokey", "FROMMEMBER", "nosuch", "BYRADIUS", "1", "km"),
    ("GEOSEARCH", "nokey", "FROMMEMBER", "nosuch", "BYRADIUS", "x", "km"),
    ("GEOSEARCH", "g", "BYRADIUS", "1", "km", "WITHDIST", "x", "y"),
    ("GEOSEARCH", "g", "BYRADIUS", "1", "km", "WITHDIST", "ASC", "DESC"),
    ("geosearch", "g", "BYRADIUS", "1", "km", "WITHDIST", "ASC", "DESC"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "WITHDIST", "ASC", "DESC"),
    ("geoSearch", "g", "FROMLONLAT", "15", "37", "WITHDIST", "ASC", "DESC"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ANY"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "COUNT", "0"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "COUNT", "-3"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "COUNT", "x"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "COUNT"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STORE", "x"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STOREDIST"),
    ("GEOSEARCH", "g", "FROMLONLAT", "200", "37", "BYRADIUS", "200", "km"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "x", "BYRADIUS", "200", "km"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "BYRADIUS", "200", "km"),
    ("GEOSEARCH", "g", "FROMMEMBER", "BYRADIUS", "200", "km"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYBOX", "200", "km"),
    ("GEOSEARCH", "g", "FROMLONLAT", "15", "37"),
    ("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km",
     "WITHDIST"),
    ("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STORE",
     "x"),
    ("GEOSEARCHSTORE", "d", "s", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "m"),
    ("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "m", "ANY"),
    ("GEORADIUS", "g", "15", "37", "200", "km", "STORE"),
    ("GEORADIUS", "g", "15", "37", "200", "km", "WITHDIST", "STORE", "x"),
    ("GEORADIUS", "g", "15", "37", "200", "km", "STOREDIST", "x", "WITHHASH"),
    ("GEORADIUS_RO", "g", "15", "37", "200", "km", "STORE", "x"),
    ("GEORADIUS_RO", "g", "15", "37", "200", "km", "STOREDIST", "x"),
    ("GEORADIUSBYMEMBER_RO", "g", "Palermo", "200", "km", "STORE", "x"),
    ("GEORADIUSBYMEMBER", "g", "nosuch", "200", "km"),
    ("GEORADIUSBYMEMBER", "nokey", "nosuch", "abc", "km"),
    ("GEORADIUSBYMEMBER", "nokey", "nosuch", "abc", "km", "WITHDIST", "STORE", "x"),
    ("GEORADIUSBYMEMBER", "g", "Palermo", "abc", "km"),
    ("GEORADIUSBYMEMBER", "g", "Palermo", "-1", "km"),
    ("GEORADIUSBYMEMBER", "g", "Palermo", "1", "kk"),
    ("GEORADIUS", "g", "15", "37", "1", "kk"),
    ("GEORADIUS", "g", "15", "37", "x", "kk"),
    ("GEORADIUS", "g", "x", "37", "1", "km"),
    ("GEORADIUS", "g", "15", "37", "200", "km", "FROMMEMBER", "Palermo"),
    ("GEORADIUS", "g", "15", "37", "200", "km", "BYBOX", "1", "1", "km"),
    ("GEORADIUS", "g", "15", "37", "200", "km", "ANY"),
    ("GEORADIUS", "s", "15", "37", "200", "km"),
    ("GEORADIUS", "s", "200", "37", "200", "km"),
    ("GEORADIUS", "g", "15", "37", "200"),
    ("GEORADIUS", "nokey", "15", "37", "200", "parsec"),
    ("GEORADIUS", "nokey", "200", "37", "200", "km"),
    ("GEORADIUS", "g", "15", "37", "200", "km", "STOREDIST"),
    ("GEORADIUS", "g", "15", "37", "200", "km", "COUNT", "1", "STORE"),
    ("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "300", "km", "COUNT",
     "9223372036854775808"),
    ("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "300", "km", "COUNT", "1.5"),
]


def test_geo_commands_in_transactions_match(differ) -> None:
    differ.run([
        ("SET", "s", "x"),
        ("MULTI",),
        ("GEOADD", "g", "1", "1", "a"),
        ("GEOSEARCH", "g", "FROMLONLAT", "1", "1", "BYRADIUS", "1", "m", "WITHCOORD"),
        ("GEOADD", "s", "1", "1", "a"),
        ("GEOADD", "g", "200", "1", "a"),
        ("EXEC",),
    ], resp=(2,))
    differ.run([
        ("MULTI",),
        ("GEOPOS", "g", "a"),
        ("GEOSEARCH", "g", "FROMLONLAT", "1", "1", "BYRADIUS", "1", "m", "WITHCOORD"),
        ("EXEC",),
    ], resp=(3,))


def test_errors_match(differ) -> None:
    differ.run([("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269",
                 "37.502669", "Catania"), ("SET", "s", "x")])
    for command in _ERRORS:
        differ.check(*command)
    differ.check("TYPE", "s")


def test_small_results_match(differ) -> None:
    differ.run([("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269",
                 "37.502669", "Catania"), ("SET", "s", "x")])
    for command in [
        ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "WITHCOORD",
         "WITHDIST", "WITHHASH"),
        ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "COUNT", "1",
         "ANY", "ASC"),
        ("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "0", "km", "WITHDIST"),
        ("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "m"),
        ("GEOSEARCH", "nokey", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "m"),
        ("GEORADIUS", "g", "15", "37", "200", "km", "COUNT", "1", "DESC", "WITHHASH"),
        ("GEORADIUS", "nokey", "15", "37", "200", "km"),
        ("GEORADIUSBYMEMBER", "g", "Palermo", "200", "km", "WITHDIST", "COUNT", "1"),
        ("GEORADIUSBYMEMBER_RO", "g", "Catania", "500", "mi", "withcoord", "desc"),
        ("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "-0", "km", "WITHDIST"),
        ("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "0x10", "km", "WITHDIST"),
        ("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "300", "km", "COUNT",
         "9223372036854775807", "WITHDIST"),
        ("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "300", "km", "COUNT", "1",
         "COUNT", "2", "WITHDIST", "WITHDIST"),
        ("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYBOX", "300", "1e-300", "km"),
        ("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYBOX", "1e-300", "300", "km"),
    ]:
        differ.check(*command)


def test_store_forms_match(differ) -> None:
    differ.run([
        ("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669",
         "Catania"),
        ("SET", "s", "x"),
        ("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"),
        ("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        ("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km",
         "STOREDIST"),
        ("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        ("OBJECT", "ENCODING", "d"),
        ("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km",
         "COUNT", "1", "DESC"),
        ("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        ("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "m"),
        ("EXISTS", "d"),
        ("GEOSEARCHSTORE", "s", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "100", "km"),
        ("TYPE", "s"),
        ("SET", "s", "x"),
        ("GEOSEARCHSTORE", "s", "nokey", "FROMLONLAT", "15", "37", "BYRADIUS", "100", "km"),
        ("EXISTS", "s"),
        ("GEORADIUS", "g", "15", "37", "200", "km", "STORE", "x2", "STOREDIST", "x3"),
        ("ZRANGE", "x2", "0", "-1", "WITHSCORES"),
        ("ZRANGE", "x3", "0", "-1", "WITHSCORES"),
        ("GEORADIUS", "g", "15", "37", "200", "mi", "STOREDIST", "x3"),
        ("ZRANGE", "x3", "0", "-1", "WITHSCORES"),
        ("GEORADIUSBYMEMBER", "g", "Palermo", "200", "km", "STORE", "x4"),
        ("ZRANGE", "x4", "0", "-1", "WITHSCORES"),
        ("GEORADIUSBYMEMBER", "nokey", "Palermo", "200", "km", "STORE", "x4"),
        ("EXISTS", "x4"),
        ("GEORADIUS", "g", "15", "37", "1", "m", "STORE", "x3"),
        ("EXISTS", "x3"),
    ])


def test_stored_encodings_follow_the_listpack_limits(differ) -> None:
    differ.run([("CONFIG", "SET", "zset-max-listpack-entries", "3"),
                ("CONFIG", "SET", "zset-max-listpack-value", "6")])
    try:
        differ.run([
            ("GEOADD", "g", "1", "1", "a", "1.01", "1", "b", "1.02", "1", "c", "1.03", "1",
             "d", "1", "1.01", "longmember"),
            ("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "1", "1", "BYRADIUS", "1.5", "km",
             "STOREDIST"),
            ("OBJECT", "ENCODING", "d"),
            ("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "1", "1", "BYRADIUS", "2", "km",
             "COUNT", "3"),
            ("OBJECT", "ENCODING", "d"),
            ("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "1", "1", "BYRADIUS", "5", "km"),
            ("OBJECT", "ENCODING", "d"),
            ("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        ])
    finally:
        differ.run([("CONFIG", "SET", "zset-max-listpack-entries", "128"),
                    ("CONFIG", "SET", "zset-max-listpack-value", "64")])
