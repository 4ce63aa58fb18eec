"""Geohash arithmetic on its own: scores, decoding, strings, distances, cells, ordering.

Expected values are what a real Redis 7.0 replies (GEOADD scores, GEOPOS/GEOHASH/
GEODIST texts), so the encoder and decoder are pinned to Redis's exact arithmetic.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taipan.commands.geo import human_double
from taipan.commands.geo_order import merge_sort
from taipan.commands.pqsort import partial_quicksort as partial_sort
from taipan.protocol.reply import encode
from taipan.types.geohash import (
    LAT_MAX,
    LAT_MIN,
    NO_CELL,
    STEP_MAX,
    Shape,
    _move,
    decode_area,
    decode_score,
    deinterleave,
    distance,
    encode_cell,
    estimate_step,
    geohash_string,
    interleave,
    score_bits,
    score_of,
    score_range,
    search_cells,
    valid_lon_lat,
)

PALERMO = (13.361389, 38.115556)
CATANIA = (15.087269, 37.502669)

LONS = st.floats(min_value=-180, max_value=180)
LATS = st.floats(min_value=LAT_MIN, max_value=LAT_MAX)


def _text(lon: float, lat: float) -> tuple[bytes, bytes]:
    return bytes(human_double(lon)), bytes(human_double(lat))


# -- encoding ----------------------------------------------------------------------------

def test_scores_match_redis() -> None:
    assert score_of(*PALERMO) == 3479099956230698
    assert score_of(*CATANIA) == 3479447370796909
    assert score_of(-180, LAT_MIN) == 0


def test_the_upper_edges_spill_past_52_bits_as_in_redis() -> None:
    # An offset of exactly 1.0 becomes index 2**26: one bit beyond the 26.
    assert score_of(180, LAT_MIN) == 1 << 53
    assert score_of(-180, LAT_MAX) == 1 << 52


def test_encode_refuses_points_outside_the_ranges() -> None:
    assert encode_cell(181, 0, STEP_MAX) is None
    assert encode_cell(0, 85.06, STEP_MAX) is None
    assert not valid_lon_lat(0, -85.0511288)
    assert valid_lon_lat(-180, LAT_MIN)


@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_interleave_round_trips(lat_index: int, lon_index: int) -> None:
    bits = interleave(lat_index, lon_index)
    assert bits < 2**64
    assert deinterleave(bits) == (lat_index, lon_index)


def test_interleave_puts_longitude_in_the_odd_bits() -> None:
    assert interleave(1, 0) == 1
    assert interleave(0, 1) == 2
    assert interleave(0b11, 0b10) == 0b1101


# -- decoding ----------------------------------------------------------------------------

def test_decoded_coordinates_print_as_redis_prints_them() -> None:
    assert _text(*decode_score(3479099956230698)) == (
        b"13.36138933897018433", b"38.11555639549629859")
    assert _text(*decode_score(score_of(10, LAT_MAX))) == (
        b"10.00000208616256714", b"85.0511287799999991")
    assert _text(*decode_score(score_of(180, 0))) == (b"180", b"0.00000126736058093")
    assert _text(*decode_score(score_of(-180, 0))) == (
        b"-179.99999731779098511", b"0.00000126736058093")


@given(st.floats(min_value=-180, max_value=179.999),
       st.floats(min_value=LAT_MIN, max_value=85.05))
def test_decoding_lands_in_the_encoded_cell(lon: float, lat: float) -> None:
    # (At the very upper edges the offset rounds to 1.0, the index spills into bit 52
    # or 53 and the score, a double, loses low bits: Redis misplaces those points too.)
    score = score_of(lon, lat)
    decoded_lon, decoded_lat = decode_score(float(score))
    assert abs(decoded_lon - lon) < 360 / 2**26
    assert abs(decoded_lat - lat) < 171 / 2**26
    assert valid_lon_lat(decoded_lon, decoded_lat)


def test_any_double_score_decodes_like_c_casts_it() -> None:
    assert score_bits(5.9) == 5
    assert score_bits(-1.0) == 2**64 - 1
    assert score_bits(-0.5) == 0
    assert score_bits(float(2**63)) == 2**63
    assert score_bits(1e30) == 0 and score_bits(float("inf")) == 0
    assert score_bits(-1e30) == 2**63 and score_bits(float("-inf")) == 2**63
    assert score_bits(-(2.0**63)) == 2**63


def test_cell_areas() -> None:
    area = decode_area((0, 1))
    assert (area.lon_min, area.lon_max) == (-180, 0)
    assert (area.lat_min, area.lat_max) == (LAT_MIN, 0)
    assert score_range((0b11, 1)) == (3.0 * 2**50, 4.0 * 2**50)


# -- geohash strings ---------------------------------------------------------------------

def test_geohash_strings_match_redis() -> None:
    assert geohash_string(score_of(*PALERMO)) == b"sqc8b49rny0"
    assert geohash_string(score_of(*CATANIA)) == b"sqdtr74hyu0"
    assert geohash_string(score_of(10, LAT_MIN)) == b"h0zh5scv2b0"
    assert geohash_string(score_of(10, LAT_MAX)) == b"upp5ge1f8z0"
    assert geohash_string(score_of(180, 0)) == b"80000000000"


# -- distances ---------------------------------------------------------------------------

def test_distance_matches_redis() -> None:
    palermo, catania = decode_score(score_of(*PALERMO)), decode_score(score_of(*CATANIA))
    meters = distance(*palermo, *catania)
    assert b"%.4f" % (meters / 1000) == b"166.2742"
    assert b"%.4f" % (meters / 1609.34) == b"103.3182"
    assert distance(*palermo, *palermo) == 0.0


@given(LONS, LATS, LONS, LATS)
def test_distance_is_symmetric_and_bounded(lon1: float, lat1: float, lon2: float,
                                           lat2: float) -> None:
    there = distance(lon1, lat1, lon2, lat2)
    assert there == pytest.approx(distance(lon2, lat2, lon1, lat1), abs=1e-6)
    assert 0 <= there <= 3.1416 * 6372797.560856


def test_shapes_decide_membership() -> None:
    circle = Shape(lon=15, lat=37, radius=200, conversion=1000)
    assert circle.distance_if_within(*CATANIA) is not None
    assert circle.distance_if_within(0, 0) is None
    box = Shape(lon=15, lat=37, is_box=True, width=400, height=10, conversion=1000)
    assert box.distance_if_within(15, 37.01) is not None
    assert box.distance_if_within(*PALERMO) is None  # too far north for the box


# -- search cells ------------------------------------------------------------------------

def test_estimated_steps() -> None:
    assert estimate_step(0, 0) == 26
    assert estimate_step(1, 0) == 24
    assert estimate_step(200_000, 0) == 6
    assert estimate_step(200_000, 70) == 5
    assert estimate_step(200_000, -85) == 4
    assert estimate_step(float("inf"), 0) == 1
    assert estimate_step(1e-300, 0) == 26


def test_neighbours_wrap_around() -> None:
    step = 2
    west_edge = (interleave(1, 0), step)
    assert _move(west_edge, -1, 0) == (interleave(1, 3), step)
    assert _move(west_edge, 1, 0) == (interleave(1, 1), step)
    assert _move(west_edge, 0, 1) == (interleave(2, 0), step)
    assert _move((interleave(3, 3), step), 1, 1) == (interleave(0, 0), step)


def test_search_cells_cover_the_centre_first() -> None:
    shape = Shape(lon=15, lat=37, radius=200, conversion=1000)
    cells = search_cells(shape)
    assert len(cells) == 9
    centre = cells[0]
    assert centre != NO_CELL
    low, high = score_range(centre)
    assert low <= score_of(15, 37) < high


def test_a_small_search_rules_out_far_neighbours() -> None:
    cells = search_cells(Shape(lon=2.35, lat=48.85, radius=1, conversion=1))
    assert NO_CELL in cells[1:]


# -- ordering ------------------------------------------------------------------------------

def _compare(a: list, b: list) -> int:
    return (a[0] > b[0]) - (a[0] < b[0])


@pytest.mark.parametrize("seed", range(40))
def test_partial_sort_orders_the_requested_prefix(seed: int) -> None:
    rng = random.Random(seed)
    size = rng.randint(1, 300)
    items = [[rng.choice([rng.random(), 0.5, 0.25]), n] for n in range(size)]
    keep = rng.randint(1, size)
    partial_sort(items, _compare, 0, keep - 1)
    expected = sorted(item[0] for item in items)
    assert [item[0] for item in items[:keep]] == expected[:keep]
    assert sorted(item[1] for item in items) == list(range(size))


def test_partial_sort_sorts_everything_when_asked() -> None:
    items = [[value, None] for value in (5, 3, 9, 1, 1, 7, 2, 8, 6, 4, 0, 3)]
    partial_sort(items, _compare, 0, len(items) - 1)
    assert [item[0] for item in items] == sorted(item[0] for item in items)


# -- reply formats ---------------------------------------------------------------------------

def test_human_doubles() -> None:
    assert bytes(human_double(180.0)) == b"180"
    assert bytes(human_double(-0.0)) == b"0"
    assert bytes(human_double(-1e-20)) == b"0"
    assert bytes(human_double(-1e-10)) == b"-0.0000000001"
    assert bytes(human_double(0.1)) == b"0.10000000000000001"


def test_human_doubles_encode_as_bulk_or_resp3_double() -> None:
    value = human_double(13.5)
    assert encode([value], 2) == b"*1\r\n$4\r\n13.5\r\n"
    assert encode([value], 3) == b"*1\r\n,13.5\r\n"


@pytest.mark.parametrize("seed", range(6))
def test_the_fast_matcher_agrees_with_the_reference(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(40):
        shape = Shape(lon=rng.uniform(-180, 180), lat=rng.uniform(LAT_MIN, LAT_MAX),
                      is_box=rng.random() < 0.5, radius=10 ** rng.uniform(0, 7),
                      width=10 ** rng.uniform(0, 7), height=10 ** rng.uniform(0, 7),
                      conversion=rng.choice([1.0, 1000.0, 0.3048, 1609.34]))
        match = shape.matcher()
        for _ in range(50):
            lon = shape.lon + rng.gauss(0, 5)
            lat = shape.lat + rng.gauss(0, 5)
            if not valid_lon_lat(lon, lat):
                continue
            score = float(score_of(lon, lat))
            decoded = decode_score(score)
            meters = shape.distance_if_within(*decoded)
            expected = None if meters is None else (meters, *decoded)
            assert match(score) == expected


def test_merge_sort_is_stable_and_matches_a_sort() -> None:
    rng = random.Random(3)
    items = [[rng.choice([0.5, 0.25, 1.0, 2.0]), n] for n in range(200)]
    assert merge_sort(items, _compare) == sorted(items, key=lambda item: item[0])
