"""The typed configuration table: redis.conf syntax, CONFIG GET/SET/REWRITE.

Every parameter is declared once with its Redis name, type, default and limits.
Values live as attributes (``config.proto_max_bulk_len``) so the hot path reads a
plain attribute, never a dict of strings.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from taipan.errors import ReplyError
from taipan.glob import glob_match
from taipan.protocol.reader import split_inline


class ConfigError(ValueError):
    """A value that can't be accepted; the text is Redis's reason."""


_UNITS = {
    "": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2,
    "g": 1000**3, "gb": 1024**3,
}


def parse_memory(text: str) -> int:
    lowered = text.lower()
    digits = lowered.rstrip("kmgb")
    unit = lowered[len(digits):]
    if unit not in _UNITS or not digits.lstrip("-").isdigit():
        raise ConfigError("argument must be a memory value")
    return int(digits) * _UNITS[unit]


@dataclass(slots=True)
class Param:
    name: str
    kind: str  # int | memory | bool | enum | string | save | special
    default: Any
    low: int = 0
    high: int = 2**63 - 1
    choices: tuple[str, ...] = ()
    mutable: bool = True
    aliases: tuple[str, ...] = ()
    sensitive: bool = False
    # Called after a successful CONFIG SET, e.g. to apply a new maxclients.
    on_change: Callable[[Any], None] | None = field(default=None, repr=False)

    @property
    def attr(self) -> str:
        return self.name.replace("-", "_")

    def parse(self, words: list[str]) -> Any:
        text = " ".join(words)
        if self.kind in ("int", "memory"):
            if self.kind == "memory":
                value = parse_memory(text)
            else:
                try:
                    value = int(text)
                except ValueError:
                    raise ConfigError("argument couldn't be parsed into an integer") from None
            if not self.low <= value <= self.high:
                raise ConfigError(
                    f"argument must be between {self.low} and {self.high} inclusive"
                )
            return value
        if self.kind == "bool":
            lowered = text.lower()
            if lowered not in ("yes", "no"):
                raise ConfigError("argument must be 'yes' or 'no'")
            return lowered == "yes"
        if self.kind == "enum":
            lowered = text.lower()
            if lowered not in self.choices:
                raise ConfigError(
                    "argument(s) must be one of the following: " + ", ".join(self.choices)
                )
            return lowered
        if self.kind == "save":
            return _parse_save(words)
        return text

    def render(self, value: Any) -> str:
        if self.kind == "bool":
            return "yes" if value else "no"
        if self.kind == "save":
            return " ".join(f"{s} {c}" for s, c in value)
        return str(value)


def _parse_save(words: list[str]) -> list[tuple[int, int]]:
    flat = " ".join(words).split()
    if flat == [] or flat == [""]:
        return []
    if len(flat) % 2:
        raise ConfigError("Invalid save parameters")
    points = []
    for seconds, changes in zip(flat[::2], flat[1::2], strict=True):
        if not (seconds.isdigit() and changes.isdigit()):
            raise ConfigError("Invalid save parameters")
        points.append((int(seconds), int(changes)))
    return points


_INT_MAX = 2**31 - 1
_LONG_MAX = 2**63 - 1

PARAMS: tuple[Param, ...] = (
    Param("port", "int", 6379, 0, 65535, mutable=False),
    Param("bind", "string", "* -::*", mutable=False),
    Param("unixsocket", "string", "", mutable=False),
    Param("unixsocketperm", "int", 0, 0, 0o777, mutable=False),
    Param("tcp-backlog", "int", 511, 0, _INT_MAX, mutable=False),
    Param("protected-mode", "bool", False),
    Param("dir", "string", ""),
    Param("dbfilename", "string", "dump.rdb"),
    Param("databases", "int", 16, 1, _INT_MAX, mutable=False),
    Param("requirepass", "string", "", sensitive=True),
    Param("masterauth", "string", "", sensitive=True),
    Param("maxclients", "int", 10000, 1, _INT_MAX),
    Param("timeout", "int", 0, 0, _INT_MAX),
    Param("tcp-keepalive", "int", 300, 0, _INT_MAX),
    Param("hz", "int", 10, 0, _INT_MAX),
    Param("dynamic-hz", "bool", True),
    Param("loglevel", "enum", "notice", choices=("debug", "verbose", "notice", "warning", "nothing")),
    Param("logfile", "string", "", mutable=False),
    Param("syslog-enabled", "bool", False, mutable=False),
    Param("daemonize", "bool", False, mutable=False),
    Param("pidfile", "string", "", mutable=False),
    Param("proto-max-bulk-len", "memory", 512 * 1024 * 1024, 1024 * 1024, _LONG_MAX),
    Param("client-query-buffer-limit", "memory", 1024**3, 1024 * 1024, _LONG_MAX),
    Param("maxmemory", "memory", 0, 0, _LONG_MAX),
    Param("maxmemory-policy", "enum", "noeviction", choices=(
        "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru",
        "allkeys-lfu", "allkeys-random", "noeviction")),
    Param("maxmemory-samples", "int", 5, 1, _INT_MAX),
    Param("lfu-log-factor", "int", 10, 0, _INT_MAX),
    Param("lfu-decay-time", "int", 1, 0, _INT_MAX),
    Param("save", "save", [(3600, 1), (300, 100), (60, 10000)]),
    Param("appendonly", "bool", False),
    Param("appendfilename", "string", "appendonly.aof", mutable=False),
    Param("appenddirname", "string", "appendonlydir", mutable=False),
    Param("appendfsync", "enum", "everysec", choices=("always", "everysec", "no")),
    Param("rdbcompression", "bool", True),
    Param("rdbchecksum", "bool", True),
    Param("stop-writes-on-bgsave-error", "bool", True),
    Param("enable-debug-command", "enum", "no", choices=("no", "yes", "local"), mutable=False),
    Param("enable-protected-configs", "enum", "no", choices=("no", "yes", "local"), mutable=False),
    Param("enable-module-command", "enum", "no", choices=("no", "yes", "local"), mutable=False),
    Param("slowlog-log-slower-than", "int", 10000, -1, _LONG_MAX),
    Param("slowlog-max-len", "int", 128, 0, _LONG_MAX),
    Param("latency-monitor-threshold", "int", 0, 0, _LONG_MAX),
    Param("notify-keyspace-events", "string", ""),
    Param("lazyfree-lazy-user-flush", "bool", False),
    Param("lazyfree-lazy-user-del", "bool", False),
    Param("lazyfree-lazy-expire", "bool", False),
    Param("lazyfree-lazy-eviction", "bool", False),
    Param("lazyfree-lazy-server-del", "bool", False),
    Param("active-expire-effort", "int", 1, 1, 10),
    Param("activedefrag", "bool", False),
    Param("io-threads", "int", 1, 1, 128, mutable=False),
    Param("cluster-enabled", "bool", False, mutable=False),
    Param("replica-read-only", "bool", True, aliases=("slave-read-only",)),
    Param("list-max-listpack-size", "int", -2, -5, _INT_MAX, aliases=("list-max-ziplist-size",)),
    Param("list-compress-depth", "int", 0, 0, _INT_MAX),
    Param("hash-max-listpack-entries", "memory", 128, 0, _LONG_MAX, aliases=("hash-max-ziplist-entries",)),
    Param("hash-max-listpack-value", "memory", 64, 0, _LONG_MAX, aliases=("hash-max-ziplist-value",)),
    Param("set-max-intset-entries", "memory", 512, 0, _LONG_MAX),
    Param("zset-max-listpack-entries", "memory", 128, 0, _LONG_MAX, aliases=("zset-max-ziplist-entries",)),
    Param("zset-max-listpack-value", "memory", 64, 0, _LONG_MAX, aliases=("zset-max-ziplist-value",)),
    Param("hll-sparse-max-bytes", "memory", 3000, 0, _LONG_MAX),
    Param("stream-node-max-bytes", "memory", 4096, 0, _LONG_MAX),
    Param("stream-node-max-entries", "int", 100, 0, _LONG_MAX),
    Param("lua-time-limit", "int", 5000, 0, _LONG_MAX, aliases=("busy-reply-threshold",)),
    Param("client-output-buffer-limit", "string",
          "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"),
    Param("aof-use-rdb-preamble", "bool", True),
    Param("aof-load-truncated", "bool", True),
    Param("aof-timestamp-enabled", "bool", False),
    Param("auto-aof-rewrite-percentage", "int", 100, 0, _INT_MAX),
    Param("auto-aof-rewrite-min-size", "memory", 64 * 1024 * 1024, 0, _LONG_MAX),
    Param("tracking-table-max-keys", "int", 1000000, 0, _LONG_MAX),
)


class Config:
    """Current values of every parameter, as attributes named with underscores."""

    def __init__(self, overrides: dict[str, Any] | None = None) -> None:
        self.params: dict[str, Param] = {}
        for param in PARAMS:
            self.params[param.name] = param
            for alias in param.aliases:
                self.params[alias] = param
            setattr(self, param.attr, param.default)
        self.config_file: str | None = None
        for name, value in (overrides or {}).items():
            self.set_value(name.replace("_", "-"), value)

    def __getattr__(self, name: str) -> Any:  # only reached for unknown attributes
        raise AttributeError(f"no config parameter {name!r}")

    def set_value(self, name: str, value: Any) -> None:
        """Set from Python (embedding): strings are parsed, other values taken as is."""
        param = self.params.get(name.lower())
        if param is None:
            raise ConfigError(f"Bad directive or wrong number of arguments: {name}")
        if isinstance(value, str) or (isinstance(value, bytes)):
            text = value.decode() if isinstance(value, bytes) else value
            value = param.parse(text.split() if param.kind == "save" else [text])
        elif param.kind == "bool":
            value = bool(value)
        setattr(self, param.attr, value)

    def set_words(self, name: str, words: list[str], startup: bool = False) -> Param:
        """Set from redis.conf or CONFIG SET words; raises ConfigError with Redis's reason."""
        param = self.params.get(name.lower())
        if param is None:
            raise KeyError(name)
        if not startup and not param.mutable:
            raise ConfigError("can't set immutable config")
        value = param.parse(words)
        setattr(self, param.attr, value)
        if param.on_change is not None and not startup:
            param.on_change(value)
        return param

    def get(self, name: str) -> Any:
        return getattr(self, self.params[name].attr)

    def render(self, name: str) -> str:
        param = self.params[name]
        return param.render(getattr(self, param.attr))

    def matching(self, pattern: bytes) -> dict[str, str]:
        """Parameters (canonical names and aliases) whose name matches a glob."""
        found: dict[str, str] = {}
        for name, param in self.params.items():
            if glob_match(pattern, name.encode(), nocase=True):
                found[name] = param.render(getattr(self, param.attr))
        return found

    def load_file(self, path: str) -> None:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        self.config_file = os.path.abspath(path)
        self.load_text(text, origin=path)

    def load_text(self, text: str, origin: str = "<config>") -> None:
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            try:
                words = [w.decode("utf-8", "replace") for w in split_inline(line.encode())]
            except ReplyError:
                raise ConfigFileError(origin, number, line, "Unbalanced quotes in configuration line") from None
            name, args = words[0].lower(), words[1:]
            if name == "include":
                self.load_file(args[0])
                continue
            try:
                self.set_words(name, args, startup=True)
            except KeyError:
                raise ConfigFileError(origin, number, line, "Bad directive or wrong number of arguments") from None
            except ConfigError as exc:
                raise ConfigFileError(origin, number, line, str(exc)) from None

    def rewrite(self) -> None:
        """CONFIG REWRITE: rewrite the config file with the changed values."""
        if not self.config_file:
            raise ReplyError("ERR The server is running without a config file")
        lines: list[str] = []
        seen: set[str] = set()
        try:
            with open(self.config_file, encoding="utf-8") as handle:
                original = handle.read().splitlines()
        except OSError:
            original = []
        for raw in original:
            words = raw.split()
            name = words[0].lower() if words and not raw.lstrip().startswith("#") else ""
            param = self.params.get(name)
            if param is None:
                lines.append(raw)
                continue
            if param.name in seen:
                continue
            seen.add(param.name)
            lines.append(f"{param.name} {_quote(self.render(param.name))}")
        for param in PARAMS:
            if param.name in seen or not param.mutable:
                continue
            current = getattr(self, param.attr)
            if current != param.default:
                lines.append(f"{param.name} {_quote(param.render(current))}")
        temp = self.config_file + ".tmp"
        with open(temp, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, self.config_file)


def _quote(text: str) -> str:
    if text and all(c.isalnum() or c in "-_./:*" for c in text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ConfigFileError(Exception):
    def __init__(self, origin: str, line_number: int, line: str, reason: str) -> None:
        super().__init__(reason)
        self.origin = origin
        self.line_number = line_number
        self.line = line
        self.reason = reason

    def report(self, version: str) -> str:
        return (
            f"\n*** FATAL CONFIG FILE ERROR (Redis {version}) ***\n"
            f"Reading the configuration file, at line {self.line_number}\n"
            f">>> '{self.line}'\n{self.reason}\n"
        )
