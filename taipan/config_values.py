"""Parsing and rendering of configuration values, with Redis 7.0's rules and texts.

Each parser takes the words of one directive (one word for most parameters) and
returns the typed value, or raises ``ConfigError`` with the reason Redis gives.
"""

from __future__ import annotations

import re
from typing import Any


class ConfigError(ValueError):
    """A value that can't be accepted; the text is Redis's reason."""


LONG_MIN = -(2**63)
LONG_MAX = 2**63 - 1
ULONG_MAX = 2**64 - 1
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
UINT_MAX = 2**32 - 1

_STRICT_INT = re.compile(r"(?:0|-?[1-9][0-9]*)\Z")
_C_INT = re.compile(r"[+-]?[0-9]+\Z")
_MEMORY = re.compile(r"([0-9]*)(.*)\Z", re.S)
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2,
          "g": 1000**3, "gb": 1024**3}


def strict_int(text: str) -> int | None:
    """Redis's ``string2ll``: no spaces, no '+', no leading zeros, fits in 64 bits."""
    if not _STRICT_INT.match(text):
        return None
    value = int(text)
    return value if LONG_MIN <= value <= LONG_MAX else None


def c_strtoll(text: str) -> int | None:
    """C's ``strtoll`` on a whole word: sign, digits, saturating at the 64-bit limits."""
    if not _C_INT.match(text):
        return None
    return max(LONG_MIN, min(int(text), LONG_MAX))


def memtoull(text: str) -> int | None:
    """Redis's ``memtoull``: digits and an optional unit; overflow wraps as in C."""
    if text.startswith("-"):
        return None
    digits, unit = _MEMORY.match(text).groups()  # type: ignore[union-attr]
    scale = _UNITS.get(unit.lower())
    if scale is None:
        return None
    value = min(int(digits), ULONG_MAX) if digits else 0  # strtoull saturates
    return (value * scale) & ULONG_MAX


def as_signed(value: int) -> int:
    return value - 2**64 if value > LONG_MAX else value


def check_range(value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise ConfigError(f"argument must be between {low} and {high} inclusive")
    return value


def parse_int(text: str, low: int, high: int) -> int:
    value = strict_int(text)
    if value is None:
        raise ConfigError("argument couldn't be parsed into an integer")
    return check_range(value, low, high)


def parse_memory(text: str, low: int, high: int) -> int:
    value = memtoull(text)
    if value is None:
        raise ConfigError("argument must be a memory value")
    if high <= LONG_MAX:  # a signed parameter: C's cast to long long
        value = as_signed(value)
    return check_range(value, low, high)


def parse_percent_memory(text: str, low: int, high: int) -> int:
    """A memory value or ``N%``; a percentage is stored negated (``10%`` → -10)."""
    if len(text) > 1 and text.endswith("%"):
        percent = strict_int(text[:-1])
        if percent is not None and percent >= 0:
            value = -percent
        else:
            value = None
    else:
        value = None
    if value is None:
        raw = memtoull(text)
        if raw is None:
            raise ConfigError("argument must be a memory or percent value")
        value = as_signed(raw)
    if value < 0:
        if value < -100:
            raise ConfigError("percentage argument must be less or equal to 100")
        return value
    return check_range(value, low, high)


def render_percent_memory(value: int) -> str:
    return f"{-value}%" if value < 0 else str(value)


def parse_octal(text: str, low: int, high: int) -> int:
    if not text or any(c not in "01234567" for c in text) or len(text) > 22:
        raise ConfigError("argument couldn't be parsed as an octal number")
    value = int(text, 8)
    if not low <= value <= high:
        raise ConfigError(f"argument must be between {low:o} and {high:o} inclusive")
    return value


def parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered == "yes":
        return True
    if lowered == "no":
        return False
    raise ConfigError("argument must be 'yes' or 'no'")


def parse_enum(text: str, choices: tuple[str, ...]) -> str:
    lowered = text.lower()
    if lowered not in choices:
        raise ConfigError("argument(s) must be one of the following: " + ", ".join(choices))
    return lowered


def bytes_with_unit(value: int) -> str:
    """How CONFIG REWRITE writes a memory value: ``1gb``, ``64mb``, ``4kb`` or bytes."""
    for unit, scale in (("gb", 1024**3), ("mb", 1024**2), ("kb", 1024)):
        if value and value % scale == 0:
            return f"{value // scale}{unit}"
    return str(value)


# -- parameters with their own syntax ----------------------------------------------

def parse_save(words: list[str]) -> list[tuple[int, int]]:
    if words == [""]:
        return []
    if len(words) % 2:
        raise ConfigError("Invalid save parameters")
    points = []
    for seconds, changes in zip(words[::2], words[1::2], strict=True):
        s, c = c_strtoll(seconds), c_strtoll(changes)
        if s is None or c is None or s < 1 or c < 0:
            raise ConfigError("Invalid save parameters")
        points.append((s, c))
    return points


def render_save(points: list[tuple[int, int]]) -> str:
    return " ".join(f"{s} {c}" for s, c in points)


# The event classes 'A' stands for (everything but key-miss 'm' and new-key 'n').
_EVENTS_ALL = "g$lshzxetd"
_EVENT_CHARS = set(_EVENTS_ALL + "AKEmn")


def parse_keyspace_events(words: list[str]) -> str:
    """The classes chosen, every one spelled out ('A' expanded), in a fixed order.

    Kept apart from how CONFIG GET shows them (``render_keyspace_events``): Redis's
    display drops 'n' next to 'A' although the class stays on."""
    text = "".join(words)
    if any(c not in _EVENT_CHARS for c in text):
        raise ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    chosen = set(text)
    if "A" in chosen:
        chosen.update(_EVENTS_ALL)
    return "".join(c for c in _EVENTS_ALL + "nKEm" if c in chosen)


def render_keyspace_events(value: str) -> str:
    """notify-keyspace-events as Redis shows it: 'A' for all the classes it covers
    (and then no 'n'), else each class, 'n' last; then K, E and m."""
    flags = set(value)
    if all(c in flags for c in _EVENTS_ALL):
        out = "A"
    else:
        out = "".join(c for c in _EVENTS_ALL + "n" if c in flags)
    out += "".join(c for c in "KEm" if c in flags)
    return out


OBUF_CLASSES = ("normal", "replica", "pubsub")
_OBUF_NAMES = {"normal": "normal", "slave": "replica", "replica": "replica", "pubsub": "pubsub"}
OBUF_DEFAULT = {"normal": (0, 0, 0), "replica": (268435456, 67108864, 60),
                "pubsub": (33554432, 8388608, 60)}


def parse_obuf_limits(words: list[str], current: dict[str, tuple[int, int, int]]
                      ) -> dict[str, tuple[int, int, int]]:
    """``class hard soft seconds [class hard soft seconds ...]``: updates those classes."""
    if len(words) % 4:
        raise ConfigError("Wrong number of arguments in buffer limit configuration.")
    updated = dict(current)
    for i in range(0, len(words), 4):
        klass = _OBUF_NAMES.get(words[i].lower())
        if klass is None:
            raise ConfigError("Invalid client class specified in buffer limit configuration.")
        hard, soft = memtoull(words[i + 1]), memtoull(words[i + 2])
        seconds = strict_int(words[i + 3])
        if hard is None or soft is None or seconds is None or seconds < 0:
            raise ConfigError("Error in hard, soft or soft_seconds setting in buffer limit "
                              "configuration.")
        updated[klass] = (hard, soft, seconds)
    return updated


def render_obuf_limits(limits: dict[str, tuple[int, int, int]]) -> str:
    parts = []
    for klass in OBUF_CLASSES:
        hard, soft, seconds = limits[klass]
        name = "slave" if klass == "replica" else klass
        parts.append(f"{name} {hard} {soft} {seconds}")
    return " ".join(parts)


def parse_oom_values(words: list[str]) -> tuple[int, int, int]:
    if len(words) != 3:
        raise ConfigError("wrong number of arguments")
    values = []
    for word in words:
        value = c_strtoll(word)
        if value is None or not -2000 <= value <= 2000:
            raise ConfigError("Invalid oom-score-adj-values, elements must be between "
                              "-2000 and 2000.")
        values.append(value)
    return (values[0], values[1], values[2])


def _strtod(text: str) -> float | None:
    try:
        if text.lower().lstrip("+-").startswith("0x"):
            sign = -1.0 if text.startswith("-") else 1.0
            return sign * float.fromhex(text.lstrip("+-"))
        if text.strip() != text or "_" in text:
            return None
        return float(text)
    except ValueError:
        return None


def parse_percentiles(words: list[str]) -> tuple[float, ...]:
    if words == [""]:
        return ()
    values = []
    for word in words:
        value = _strtod(word)
        if value is None:
            raise ConfigError("Invalid latency-tracking-info-percentiles parameters")
        if not 0.0 <= value <= 100.0:
            raise ConfigError("latency-tracking-info-percentiles parameters should sit "
                              "between [0.0,100.0]")
        values.append(value)
    return tuple(values)


def render_percentiles(values: tuple[float, ...]) -> str:
    return " ".join(f"{v:g}" for v in values)


def parse_hostname(text: str) -> str:
    if any(not (c.isascii() and (c.isalnum() or c in "-.")) for c in text):
        raise ConfigError("Hostnames may only contain alphanumeric characters, hyphens or dots")
    return text


_TITLE_VARIABLES = {"{title}", "{listen-addr}", "{server-mode}", "{port}", "{tls-port}",
                    "{unixsocket}", "{config-file}"}


def parse_proc_title(text: str) -> str:
    variables = re.findall(r"\{[^{}]*\}", text)
    stripped = re.sub(r"\{[^{}]*\}", "", text)
    if (not text or "{" in stripped or "}" in stripped
            or any(v not in _TITLE_VARIABLES for v in variables)):
        raise ConfigError("template format is invalid or contains unknown variables")
    return text


def quote_value(text: str) -> str:
    """Redis's ``sdscatrepr``: a double-quoted string with C-style escapes."""
    out = ['"']
    for byte in text.encode("utf-8", "surrogateescape"):
        c = chr(byte)
        if c in '\\"':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif c == "\a":
            out.append("\\a")
        elif c == "\b":
            out.append("\\b")
        elif 32 <= byte < 127:
            out.append(c)
        else:
            out.append(f"\\x{byte:02x}")
    out.append('"')
    return "".join(out)


def words_of(value: Any) -> list[str]:
    """Python values given to ``Server(...)`` or ``Config(...)`` as directive words."""
    if isinstance(value, bool):
        return ["yes" if value else "no"]
    if isinstance(value, bytes):
        return [value.decode("utf-8", "surrogateescape")]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]
