"""Geohash arithmetic as Redis does it: 52-bit scores, search boxes, distances.

A point is stored in a sorted set under a 52-bit score: longitude and latitude are
each mapped to a 26-bit cell index (longitude over [-180, 180], latitude over the
Web-Mercator range [-85.05112878, 85.05112878]) and the two indexes are interleaved,
longitude bits in the odd positions, latitude bits in the even ones, so nearby points
share score prefixes. Decoding gives the centre of the cell.

Every result a client sees (decoded coordinates, distances, which points a search
finds) depends on the exact floating-point steps, so each computation below does the
same IEEE double operations, in the same order, as Redis's C code; CPython's
``math`` functions are the platform's libm, as Redis's are.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

LON_MIN, LON_MAX = -180.0, 180.0
LAT_MIN, LAT_MAX = -85.05112878, 85.05112878
STEP_MAX = 26  # bits per coordinate: 52-bit scores
EARTH_RADIUS = 6372797.560856  # metres, as Redis uses
MERCATOR_MAX = 20037726.37
DEG_TO_RAD = math.pi / 180.0

_U32 = 0xFFFFFFFF
_U64 = 0xFFFFFFFFFFFFFFFF
_EVEN = 0x5555555555555555
_ODD = 0xAAAAAAAAAAAAAAAA
_BASE32 = b"0123456789bcdefghjkmnpqrstuvwxyz"
_NEGATIVE_NAN = -math.nan  # the NaN x86 produces for an invalid operation

Range = tuple[float, float]
WGS84_LON: Range = (LON_MIN, LON_MAX)
WGS84_LAT: Range = (LAT_MIN, LAT_MAX)
STANDARD_LAT: Range = (-90.0, 90.0)  # what standard geohash strings use

# A geohash cell: (bits, step), ``step`` bits per coordinate. (0, 0) is "no cell".
Cell = tuple[int, int]
_CELLS = float(1 << STEP_MAX)
_LON_SCALE = LON_MAX - LON_MIN
_LAT_SCALE = LAT_MAX - LAT_MIN
# _gather's masks, repeated in the upper 64 bits: two gathers for the price of one.
_PAIR_MASKS = tuple(mask | (mask << 64) for mask in (
    0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF, _U32))
NO_CELL: Cell = (0, 0)


# -- bit interleaving -------------------------------------------------------------------

def _spread(value: int) -> int:
    """The 32 bits of ``value`` moved to the even positions of 64 bits."""
    value &= _U32
    value = (value | (value << 16)) & 0x0000FFFF0000FFFF
    value = (value | (value << 8)) & 0x00FF00FF00FF00FF
    value = (value | (value << 4)) & 0x0F0F0F0F0F0F0F0F
    value = (value | (value << 2)) & 0x3333333333333333
    return (value | (value << 1)) & _EVEN


def _gather(value: int) -> int:
    """The even-position bits of a 64-bit ``value``, packed into 32 bits."""
    value &= _EVEN
    value = (value | (value >> 1)) & 0x3333333333333333
    value = (value | (value >> 2)) & 0x0F0F0F0F0F0F0F0F
    value = (value | (value >> 4)) & 0x00FF00FF00FF00FF
    value = (value | (value >> 8)) & 0x0000FFFF0000FFFF
    return (value | (value >> 16)) & _U32


def interleave(lat_index: int, lon_index: int) -> int:
    """Latitude bits in the even positions, longitude bits in the odd ones."""
    return _spread(lat_index) | (_spread(lon_index) << 1)


def deinterleave(bits: int) -> tuple[int, int]:
    """(latitude index, longitude index) of interleaved ``bits``."""
    return _gather(bits), _gather(bits >> 1)


# -- encoding and decoding --------------------------------------------------------------

def valid_lon_lat(lon: float, lat: float) -> bool:
    return LON_MIN <= lon <= LON_MAX and LAT_MIN <= lat <= LAT_MAX


def encode_cell(lon: float, lat: float, step: int, lon_range: Range = WGS84_LON,
           lat_range: Range = WGS84_LAT) -> int | None:
    """The ``step``-bit cell holding the point, or None outside the ranges."""
    if not valid_lon_lat(lon, lat):
        return None
    if not (lat_range[0] <= lat <= lat_range[1] and lon_range[0] <= lon <= lon_range[1]):
        return None
    lat_offset = (lat - lat_range[0]) / (lat_range[1] - lat_range[0])
    lon_offset = (lon - lon_range[0]) / (lon_range[1] - lon_range[0])
    lat_offset *= 1 << step
    lon_offset *= 1 << step
    # C converts the offsets to uint32_t by truncation.
    return interleave(int(lat_offset) & _U32, int(lon_offset) & _U32)


def align52(bits: int, step: int) -> int:
    """A ``step``-bit cell as a 52-bit score prefix."""
    return (bits << (52 - step * 2)) & _U64


def score_of(lon: float, lat: float) -> int:
    """The sorted-set score of a (valid) point, as GEOADD computes it."""
    bits = encode_cell(lon, lat, STEP_MAX)
    return align52(bits if bits is not None else 0, STEP_MAX)


@dataclass(slots=True)
class Area:
    """A cell's extent in degrees."""

    lon_min: float
    lon_max: float
    lat_min: float
    lat_max: float


def decode_area(cell: Cell, lon_range: Range = WGS84_LON,
                lat_range: Range = WGS84_LAT) -> Area:
    bits, step = cell
    lat_index, lon_index = deinterleave(bits)
    lat_scale = lat_range[1] - lat_range[0]
    lon_scale = lon_range[1] - lon_range[0]
    cells = float(1 << step)
    # ``index + 1`` is uint32_t arithmetic in C.
    return Area(
        lon_range[0] + (lon_index * 1.0 / cells) * lon_scale,
        lon_range[0] + (((lon_index + 1) & _U32) * 1.0 / cells) * lon_scale,
        lat_range[0] + (lat_index * 1.0 / cells) * lat_scale,
        lat_range[0] + (((lat_index + 1) & _U32) * 1.0 / cells) * lat_scale,
    )


def score_bits(score: float) -> int:
    """``(uint64_t)score`` as x86-64 C computes it, for any double a zset may hold."""
    if math.isnan(score):
        return 1 << 63
    if score < 9223372036854775808.0:
        if score < -9223372036854775808.0:  # beyond int64 (or -inf): "indefinite"
            return 1 << 63
        return int(score) & _U64
    shifted = score - 9223372036854775808.0
    if shifted >= 9223372036854775808.0:  # 2**64 and beyond, inf
        return 0
    return int(shifted) ^ (1 << 63)


def decode_score(score: float) -> tuple[float, float]:
    """(longitude, latitude) of the centre of the cell a score names."""
    # The hot path of every search: decode_area's arithmetic, inlined, on both
    # coordinates' bits gathered at once (latitude in the low half of a 128-bit int).
    bits = int(score) if 0.0 <= score < 9223372036854775808.0 else score_bits(score)
    pair = (bits & _EVEN) | (((bits >> 1) & _EVEN) << 64)
    pair = (pair | (pair >> 1)) & _PAIR_MASKS[0]
    pair = (pair | (pair >> 2)) & _PAIR_MASKS[1]
    pair = (pair | (pair >> 4)) & _PAIR_MASKS[2]
    pair = (pair | (pair >> 8)) & _PAIR_MASKS[3]
    pair = (pair | (pair >> 16)) & _PAIR_MASKS[4]
    lat_index, lon_index = pair & _U32, pair >> 64
    lon = (LON_MIN + (lon_index / _CELLS) * _LON_SCALE
           + (LON_MIN + (((lon_index + 1) & _U32) / _CELLS) * _LON_SCALE)) / 2
    lat = (LAT_MIN + (lat_index / _CELLS) * _LAT_SCALE
           + (LAT_MIN + (((lat_index + 1) & _U32) / _CELLS) * _LAT_SCALE)) / 2
    if lon > LON_MAX:
        lon = LON_MAX
    elif lon < LON_MIN:
        lon = LON_MIN
    if lat > LAT_MAX:
        lat = LAT_MAX
    elif lat < LAT_MIN:
        lat = LAT_MIN
    return lon, lat


def geohash_string(score: float) -> bytes:
    """The 11-character standard geohash GEOHASH reports for a stored score."""
    lon, lat = decode_score(score)
    bits = encode_cell(lon, lat, STEP_MAX, WGS84_LON, STANDARD_LAT) or 0
    chars = bytearray()
    for i in range(10):
        chars.append(_BASE32[(bits >> (52 - (i + 1) * 5)) & 0x1F])
    chars.append(_BASE32[0])  # 52 bits fill 10.4 characters: the last is always '0'
    return bytes(chars)


# -- distances --------------------------------------------------------------------------

def distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    lat1r = lat1 * DEG_TO_RAD
    lon1r = lon1 * DEG_TO_RAD
    lat2r = lat2 * DEG_TO_RAD
    lon2r = lon2 * DEG_TO_RAD
    u = math.sin((lat2r - lat1r) / 2)
    v = math.sin((lon2r - lon1r) / 2)
    a = u * u + math.cos(lat1r) * math.cos(lat2r) * v * v
    try:
        return 2.0 * EARTH_RADIUS * math.asin(math.sqrt(a))
    except ValueError:  # rounding put ``a`` past 1: C's asin gives x86's default NaN
        return _NEGATIVE_NAN


def _cos(angle: float) -> float:
    """C's cos: NaN for an infinite angle (Python raises)."""
    return math.cos(angle) if math.isfinite(angle) else math.nan


# -- search shapes ----------------------------------------------------------------------

@dataclass(slots=True)
class Shape:
    """A search area: a circle (``radius``) or a box (``width`` x ``height``) around
    (lon, lat), sizes in the unit whose length in metres is ``conversion``."""

    lon: float = 0.0
    lat: float = 0.0
    is_box: bool = False
    radius: float = 0.0
    width: float = 0.0
    height: float = 0.0
    conversion: float = 1.0

    def distance_if_within(self, lon: float, lat: float) -> float | None:
        """Metres from the centre to a point inside the shape, or None."""
        if self.is_box:
            lon_distance = distance(lon, lat, self.lon, lat)
            lat_distance = distance(lon, lat, lon, self.lat)
            if (lon_distance > self.width * self.conversion / 2
                    or lat_distance > self.height * self.conversion / 2):
                return None
            return distance(self.lon, self.lat, lon, lat)
        meters = distance(self.lon, self.lat, lon, lat)
        if meters > self.radius * self.conversion:
            return None
        return meters

    def matcher(self) -> Callable[[float], tuple[float, float, float] | None]:
        """A fast ``score -> (metres, lon, lat)`` for points inside the shape (None for
        the others): ``distance_if_within`` with the centre's terms computed once."""
        centre_lon, centre_lat = self.lon, self.lat
        lat1r = centre_lat * DEG_TO_RAD
        lon1r = centre_lon * DEG_TO_RAD
        cos_lat1 = math.cos(lat1r)
        diameter = 2.0 * EARTH_RADIUS
        sin, cos, asin, sqrt = math.sin, math.cos, math.asin, math.sqrt

        def meters_to(lon: float, lat: float) -> float:
            lat2r = lat * DEG_TO_RAD
            u = sin((lat2r - lat1r) / 2)
            v = sin((lon * DEG_TO_RAD - lon1r) / 2)
            try:
                return diameter * asin(sqrt(u * u + cos_lat1 * cos(lat2r) * v * v))
            except ValueError:
                return _NEGATIVE_NAN

        if not self.is_box:
            limit = self.radius * self.conversion

            def in_circle(score: float) -> tuple[float, float, float] | None:
                lon, lat = decode_score(score)
                meters = meters_to(lon, lat)
                if meters > limit:
                    return None
                return meters, lon, lat

            return in_circle

        half_width = self.width * self.conversion / 2
        half_height = self.height * self.conversion / 2

        def in_box(score: float) -> tuple[float, float, float] | None:
            lon, lat = decode_score(score)
            # distance(lon, lat, centre_lon, lat) and distance(lon, lat, lon, centre_lat)
            # with their zero terms dropped (adding 0.0 changes nothing); neither sum
            # can exceed 1, so asin needs no guard.
            latr = lat * DEG_TO_RAD
            cos_lat = cos(latr)
            v = sin((lon1r - lon * DEG_TO_RAD) / 2)
            if diameter * asin(sqrt(cos_lat * cos_lat * v * v)) > half_width:
                return None
            u = sin((lat1r - latr) / 2)
            if diameter * asin(sqrt(u * u)) > half_height:
                return None
            return meters_to(lon, lat), lon, lat

        return in_box

    def bounding_box(self) -> tuple[float, float, float, float]:
        """(min lon, min lat, max lon, max lat) around the shape."""
        lon, lat = self.lon, self.lat
        if self.is_box:
            height = self.conversion * (self.height / 2)
            width = self.conversion * (self.width / 2)
        else:
            height = width = self.conversion * self.radius
        lat_delta = (height / EARTH_RADIUS) / DEG_TO_RAD
        top = width / EARTH_RADIUS / _cos((lat + lat_delta) * DEG_TO_RAD)
        bottom = width / EARTH_RADIUS / _cos((lat - lat_delta) * DEG_TO_RAD)
        lon_delta_top, lon_delta_bottom = top / DEG_TO_RAD, bottom / DEG_TO_RAD
        # Meridians converge towards the pole: the wider edge is the one nearer the equator.
        lon_delta = lon_delta_bottom if lat < 0 else lon_delta_top
        return lon - lon_delta, lat - lat_delta, lon + lon_delta, lat + lat_delta

    def reach_meters(self) -> float:
        """The radius, or the centre-to-corner distance of a box, in metres."""
        if self.is_box:
            half_w, half_h = self.width / 2, self.height / 2
            return math.sqrt(half_w * half_w + half_h * half_h) * self.conversion
        return self.radius * self.conversion


def estimate_step(range_meters: float, lat: float) -> int:
    """Cell size (bits per coordinate) whose neighbourhood covers ``range_meters``."""
    if range_meters == 0:
        return STEP_MAX
    step = 1
    while range_meters < MERCATOR_MAX:
        range_meters *= 2
        step += 1
    step -= 2
    if lat > 66 or lat < -66:  # cells narrow towards the poles
        step -= 1
        if lat > 80 or lat < -80:
            step -= 1
    return min(max(step, 1), STEP_MAX)


def _move(cell: Cell, lon_dir: int, lat_dir: int) -> Cell:
    """The adjacent cell, ``lon_dir``/``lat_dir`` in {-1, 0, 1}, wrapping around."""
    bits, step = cell
    shift = 64 - step * 2
    if lon_dir:
        lon = bits & _ODD
        lat = bits & _EVEN
        fill = _EVEN >> shift  # ones between the longitude bits carry an increment
        if lon_dir > 0:
            lon = lon + (fill + 1)
        else:
            lon = ((lon | fill) - (fill + 1)) & _U64
        bits = (lon & (_ODD >> shift)) | lat
    if lat_dir:
        lon = bits & _ODD
        lat = bits & _EVEN
        fill = _ODD >> shift
        if lat_dir > 0:
            lat = lat + (fill + 1)
        else:
            lat = ((lat | fill) - (fill + 1)) & _U64
        bits = lon | (lat & (_EVEN >> shift))
    return bits, step


# Redis's search order: the centre cell, then N, S, E, W, NE, NW, SE, SW.
_DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))
_NORTH, _SOUTH, _EAST, _WEST = 1, 2, 3, 4
_NE, _NW, _SE, _SW = 5, 6, 7, 8


def search_cells(shape: Shape) -> list[Cell]:
    """The nine cells (centre first; NO_CELL for those ruled out) to scan for a shape."""
    min_lon, min_lat, max_lon, max_lat = shape.bounding_box()
    step = estimate_step(shape.reach_meters(), shape.lat)
    cells = _neighbourhood(shape, step)
    north, south = decode_area(cells[_NORTH]), decode_area(cells[_SOUTH])
    east, west = decode_area(cells[_EAST]), decode_area(cells[_WEST])
    if (north.lat_max < max_lat or south.lat_min > min_lat
            or east.lon_max < max_lon or west.lon_min > min_lon) and step > 1:
        step -= 1  # the shape reaches past a neighbour: use cells twice as large
        cells = _neighbourhood(shape, step)
    if step >= 2:
        area = decode_area(cells[0])
        if area.lat_min < min_lat:
            for i in (_SOUTH, _SW, _SE):
                cells[i] = NO_CELL
        if area.lat_max > max_lat:
            for i in (_NORTH, _NE, _NW):
                cells[i] = NO_CELL
        if area.lon_min < min_lon:
            for i in (_WEST, _SW, _NW):
                cells[i] = NO_CELL
        if area.lon_max > max_lon:
            for i in (_EAST, _SE, _NE):
                cells[i] = NO_CELL
    return cells


def _neighbourhood(shape: Shape, step: int) -> list[Cell]:
    bits = encode_cell(shape.lon, shape.lat, step)
    centre = (bits if bits is not None else 0, step)
    return [centre] + [_move(centre, dx, dy) for dx, dy in _DIRECTIONS]


def score_range(cell: Cell) -> tuple[float, float]:
    """Scores [min, max) of the points inside a cell."""
    bits, step = cell
    return float(align52(bits, step)), float(align52(bits + 1, step))
