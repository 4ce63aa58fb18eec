"""Geo commands through redis-py, as applications use them."""

from __future__ import annotations

import pytest
import redis

PALERMO = (13.361389, 38.115556, "Palermo")
CATANIA = (15.087269, 37.502669, "Catania")


@pytest.fixture
def sicily(r: redis.Redis) -> redis.Redis:
    assert r.geoadd("Sicily", PALERMO + CATANIA) == 2
    return r


def test_geoadd_stores_a_sorted_set(r: redis.Redis) -> None:
    assert r.geoadd("Sicily", PALERMO + CATANIA) == 2
    assert r.type("Sicily") == b"zset"
    assert r.zscore("Sicily", "Palermo") == 3479099956230698
    assert r.geoadd("Sicily", (1, 1, "Palermo"), nx=True) == 0
    assert r.geoadd("Sicily", (1, 1, "Palermo", 2, 2, "Agrigento"), xx=True) == 0
    assert r.zcard("Sicily") == 2
    assert r.geoadd("Sicily", (3, 3, "Palermo", 2, 2, "Agrigento"), ch=True) == 2
    with pytest.raises(redis.ResponseError, match="invalid longitude,latitude pair "
                                                  "200.000000,10.000000"):
        r.geoadd("Sicily", (200, 10, "nowhere"))
    with pytest.raises(redis.DataError):
        r.geoadd("Sicily", (1, 1, "x"), nx=True, xx=True)
    r.set("text", "v")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.geoadd("text", (1, 1, "x"))


def test_geopos_geohash_geodist(sicily: redis.Redis) -> None:
    palermo, catania, missing = sicily.geopos("Sicily", "Palermo", "Catania", "nosuch")
    assert palermo == pytest.approx((13.36138933897018433, 38.11555639549629859))
    assert catania == pytest.approx((15.08726745843887329, 37.50266842333162032))
    assert missing is None
    assert sicily.geohash("Sicily", "Palermo", "Catania", "nosuch") == [
        "sqc8b49rny0", "sqdtr74hyu0", None]
    assert sicily.geodist("Sicily", "Palermo", "Catania") == 166274.1516
    assert sicily.geodist("Sicily", "Palermo", "Catania", "km") == 166.2742
    assert sicily.geodist("Sicily", "Palermo", "Catania", "mi") == 103.3182
    assert sicily.geodist("Sicily", "Palermo", "nosuch") is None
    assert sicily.geodist("nokey", "a", "b") is None
    with pytest.raises(redis.ResponseError, match="unsupported unit provided"):
        sicily.execute_command("GEODIST", "Sicily", "Palermo", "Catania", "parsec")


def test_geosearch(sicily: redis.Redis) -> None:
    assert sicily.geosearch("Sicily", longitude=15, latitude=37, radius=200, unit="km",
                            sort="ASC") == [b"Catania", b"Palermo"]
    assert sicily.geosearch("Sicily", longitude=15, latitude=37, radius=100,
                            unit="km") == [b"Catania"]
    assert sicily.geosearch("Sicily", member="Palermo", width=400, height=400, unit="km",
                            sort="DESC") == [b"Catania", b"Palermo"]
    found = sicily.geosearch("Sicily", longitude=15, latitude=37, radius=200, unit="km",
                             withdist=True, withcoord=True, withhash=True, sort="ASC")
    assert found[0][0] == b"Catania"
    assert found[0][1] == 56.4413
    assert found[0][2] == 3479447370796909
    assert found[0][3] == pytest.approx((15.087267458438873, 37.50266842333162))
    assert sicily.geosearch("Sicily", longitude=15, latitude=37, radius=200, unit="km",
                            count=1) == [b"Catania"]
    assert len(sicily.geosearch("Sicily", longitude=15, latitude=37, radius=200,
                                unit="km", count=1, any=True)) == 1
    assert sicily.geosearch("nokey", longitude=15, latitude=37, radius=1) == []
    with pytest.raises(redis.ResponseError, match="could not decode requested zset member"):
        sicily.geosearch("Sicily", member="nosuch", radius=1)
    with pytest.raises(redis.ResponseError, match="exactly one of BYRADIUS and BYBOX"):
        sicily.execute_command("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "ASC", "DESC")
    with pytest.raises(redis.ResponseError, match="COUNT must be > 0"):
        sicily.execute_command("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYRADIUS", 1,
                               "km", "COUNT", 0)
    with pytest.raises(redis.ResponseError, match="the ANY argument requires COUNT"):
        sicily.execute_command("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYRADIUS", 1,
                               "km", "ANY")


def test_geosearchstore(sicily: redis.Redis) -> None:
    assert sicily.geosearchstore("near", "Sicily", longitude=15, latitude=37, radius=200,
                                 unit="km") == 2
    assert sicily.zrange("near", 0, -1, withscores=True) == [
        (b"Palermo", 3479099956230698.0), (b"Catania", 3479447370796909.0)]
    assert sicily.geosearchstore("near", "Sicily", longitude=15, latitude=37, radius=200,
                                 unit="km", storedist=True) == 2
    assert sicily.zrange("near", 0, -1, withscores=True) == [
        (b"Catania", pytest.approx(56.4413)), (b"Palermo", pytest.approx(190.4424))]
    assert sicily.geosearchstore("near", "Sicily", longitude=15, latitude=37, radius=1) == 0
    assert sicily.exists("near") == 0


def test_georadius_family(sicily: redis.Redis) -> None:
    assert sicily.georadius("Sicily", 15, 37, 200, "km", withdist=True, sort="ASC") == [
        [b"Catania", 56.4413], [b"Palermo", 190.4424]]
    assert sicily.georadiusbymember("Sicily", "Palermo", 200, "km", count=1) == [b"Palermo"]
    assert sicily.georadius("Sicily", 15, 37, 200, "km", store="copy") == 2
    assert sicily.zscore("copy", "Catania") == 3479447370796909
    assert sicily.georadiusbymember("Sicily", "Palermo", 200, "km", store_dist="dists") == 2
    assert sicily.zscore("dists", "Catania") == pytest.approx(166.27415156960032, abs=0)
    assert sicily.execute_command("GEORADIUS_RO", "Sicily", 15, 37, 100, "km") == [
        b"Catania"]
    assert sicily.execute_command("GEORADIUSBYMEMBER_RO", "Sicily", "Catania", 10,
                                  "km") == [b"Catania"]
    with pytest.raises(redis.ResponseError, match="syntax error"):
        sicily.execute_command("GEORADIUS_RO", "Sicily", 15, 37, 100, "km", "STORE", "x")
    with pytest.raises(redis.ResponseError,
                       match="STORE option in GEORADIUS is not compatible"):
        sicily.georadius("Sicily", 15, 37, 200, "km", withdist=True, store="x")


def test_resp3_coordinates_are_doubles(r3: redis.Redis) -> None:
    r3.geoadd("Sicily", PALERMO + CATANIA)
    assert r3.geopos("Sicily", "Palermo") == [
        pytest.approx((13.36138933897018433, 38.11555639549629859))]
    found = r3.geosearch("Sicily", member="Palermo", radius=1, unit="km", withcoord=True,
                         withdist=True)
    assert found[0][0] == b"Palermo"
    assert found[0][1] == 0.0
    assert found[0][2] == pytest.approx((13.36138933897018433, 38.11555639549629859))
