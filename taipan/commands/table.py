"""The declarative command table.

Each command is declared once, above its handler::

    @commands.command("SET", arity=-3, flags="write denyoom", keys=(1, 1, 1),
                      key_specs=({"flags": "RW access update variable_flags", "notes": "..."},),
                      summary="Set the string value of a key", since="1.0.0", complexity="O(1)")
    def set_(ctx, argv): ...

That declaration is the only source for dispatch checks, ``COMMAND`` replies, ACL
categories and MULTI rules. Most metadata is derived the way Redis derives it, so a
declaration only spells out what is special about its command:

- ACL categories come from the flags (``write`` → @write, no ``fast`` → @slow, ...)
  and the group (``string`` → @string); ``acl="dangerous -keyspace"`` adds or removes.
- Key specs come from the ``keys=(first, last, step)`` triple: one spec over the whole
  range ("RO access" for readonly commands, "RW access update" for writes), or, when
  ``key_specs`` lists several flag strings, one key per spec with the last spec taking
  the rest of the range (``RENAME``: ``("RW access delete", "OW update")``). A dict of
  ``key_spec`` keyword arguments adds notes or spells out a keyword/keynum/unknown
  shape: ``{"flags": "RW access delete", "index": 1, "keynumidx": 0}``.
- ``movablekeys`` is added when a key spec is not a plain index + range.
- ``summary``/``since``/``complexity``/``doc_flags``/``history``/... feed COMMAND DOCS
  and carry Redis's texts verbatim.

Command modules each build a ``CommandGroup``; ``build_table`` composes the groups
into one ``CommandTable`` explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from taipan.commands.keyspecs import (
    KeyRefs,
    KeySpec,
    derive_key_specs,
    find_keys,
    is_movable,
    ordered,
)

Handler = Callable[[Any, list[bytes]], Any]

# Every ACL category, in the order Redis lists them.
ACL_CATEGORIES: Final = (
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
    "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
    "dangerous", "connection", "transaction", "scripting",
)

# Command flags in the order COMMAND INFO reports them.
COMMAND_FLAGS: Final = (
    "write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript", "blocking",
    "loading", "stale", "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth",
    "no_mandatory_keys", "no_async_loading", "no_multi", "movablekeys", "allow_busy",
)
# Flags Redis keeps internally but never reports.
HIDDEN_FLAGS: Final = ("may_replicate", "sentinel", "only_sentinel", "protected")

# Flags that imply an ACL category, as Redis derives them.
_FLAG_CATEGORIES: Final = {
    "write": "write",
    "readonly": "read",
    "admin": "admin",
    "pubsub": "pubsub",
    "fast": "fast",
    "blocking": "blocking",
}

# Redis's command groups and the ACL category each implies.
_GROUP_CATEGORIES: Final = {
    "string": "string",
    "bitmap": "bitmap",
    "generic": "keyspace",
    "keyspace": "keyspace",
    "connection": "connection",
    "transactions": "transaction",
    "server": None,
    "list": "list",
    "hash": "hash",
    "set": "set",
    "sorted-set": "sortedset",
    "hyperloglog": "hyperloglog",
    "geo": "geo",
    "pubsub": "pubsub",
    "scripting": "scripting",
    "stream": "stream",
}

def _derive_categories(
    flags: Iterable[str], group: str | None, extra: Iterable[str],
) -> tuple[str, ...]:
    """ACL categories as Redis computes them: explicit ones, then those flags imply.

    ``group`` is None for containers, which carry no group category of their own.
    """
    flags = tuple(flags)
    categories: set[str] = set()
    group_category = _GROUP_CATEGORIES.get(group) if group else None
    if group_category is not None:
        categories.add(group_category)
    removed = set()
    for category in extra:
        if category.startswith("-"):
            removed.add(category[1:])
        elif category in ACL_CATEGORIES:
            categories.add(category)
        else:
            raise ValueError(f"unknown ACL category {category!r}")
    for flag in flags:
        flag_category = _FLAG_CATEGORIES.get(flag)
        if flag_category == "read" and "scripting" in categories:
            continue  # Redis keeps scripting commands out of @read
        if flag_category:
            categories.add(flag_category)
    if "admin" in flags:
        categories.add("dangerous")
    if "fast" not in categories:
        categories.add("slow")
    categories -= removed
    return tuple(c for c in ACL_CATEGORIES if c in categories)


@dataclass(eq=False, slots=True)
class Command:
    name: str  # lower case; subcommands are "parent|sub" as Redis reports them
    handler: Handler | None
    arity: int
    flags: tuple[str, ...]  # in Redis's order; hidden flags last
    first_key: int
    last_key: int
    key_step: int
    group: str
    acl_categories: tuple[str, ...]
    key_specs: tuple[KeySpec, ...] = ()
    tips: tuple[str, ...] = ()
    summary: str = ""
    since: str = ""
    complexity: str = ""
    doc_flags: tuple[str, ...] = ()
    deprecated_since: str = ""
    replaced_by: str = ""
    history: tuple[tuple[str, str], ...] = ()
    arguments: tuple[dict[bytes, Any], ...] = ()
    subcommands: dict[bytes, Command] = field(default_factory=dict)
    # Derived once from flags so dispatch tests plain booleans, not string sets.
    is_write: bool = False
    allowed_unauthenticated: bool = False
    allowed_in_multi: bool = True  # False: refused while a MULTI is open
    runs_in_multi: bool = False  # True: executes at once inside MULTI (EXEC, ...)
    # Refused with MISCONF after a failed background save (writes, and PING as in Redis).
    denied_on_disk_error: bool = False
    denyoom: bool = False
    loading_ok: bool = False
    denied_in_scripts: bool = False  # noscript: redis.call refuses it
    may_replicate: bool = False  # counts as a write for read-only scripts
    allowed_while_busy: bool = False  # allow_busy: served while a script is busy
    # A RESP2 client subscribed to channels may run it (PING, the (un)subscribes...).
    allowed_while_subscribed: bool = False
    is_readonly: bool = False  # readonly: keys it reads are tracked for client caches
    is_fast: bool = False  # fast: its latency spikes are "fast-command" events
    skips_slowlog: bool = False  # skip_slowlog: EXEC (its commands are logged instead)
    # Statistics for INFO commandstats.
    calls: int = 0
    usec: int = 0
    failed_calls: int = 0
    rejected_calls: int = 0
    # latency-tracking: durations (µs) not yet counted (those of 0 µs only counted),
    # and their counts by µs (taipan/observability/histograms.py).
    latency_pending: list[int] = field(default_factory=list)
    latency_zeros: int = 0
    latency_counts: Any = None

    @property
    def fullname(self) -> str:
        return self.name

    @property
    def reported_flags(self) -> tuple[str, ...]:
        """The flags COMMAND INFO shows (Redis hides a few internal ones)."""
        return tuple(f for f in self.flags if f not in HIDDEN_FLAGS)

    def key_positions(self, argv: list[bytes]) -> list[int]:
        """Indexes of the key arguments, from the (first, last, step) triple."""
        if self.first_key <= 0:
            return []
        last = self.last_key if self.last_key >= 0 else len(argv) + self.last_key
        return list(range(self.first_key, min(last, len(argv) - 1) + 1, self.key_step))

    def has_keys(self) -> bool:
        return any("not_key" not in spec["flags"] for spec in self.key_specs)

    def key_references(self, argv: list[bytes]) -> KeyRefs | None:
        """(position, key-spec flags) of each key in ``argv``, found by the key specs.

        None when a spec cannot be followed (unknown shape, bad key count, a
        position out of range): Redis then falls back to a command-specific proc.
        """
        return find_keys(self.key_specs, argv)



class CommandGroup:
    """The commands one module declares, before they are composed into a table."""

    def __init__(self, group: str) -> None:
        self.group = group
        self.commands: list[Command] = []
        self._containers: dict[str, Command] = {}

    def command(
        self,
        name: str,
        *,
        arity: int,
        flags: str = "",
        keys: tuple[int, int, int] = (0, 0, 0),
        group: str | None = None,
        acl: str = "",
        key_specs: tuple[KeySpec | str, ...] = (),
        tips: str = "",
        summary: str = "",
        since: str = "",
        complexity: str = "",
        doc_flags: str = "",
        deprecated_since: str = "",
        replaced_by: str = "",
        history: tuple[tuple[str, str], ...] = (),
        arguments: tuple[dict[bytes, Any], ...] = (),
    ) -> Callable[[Handler], Handler]:
        """Declare a command (or ``"PARENT SUB"`` for a subcommand) above its handler."""

        def register(handler: Handler) -> Handler:
            parent_name, _, sub_name = name.partition(" ")
            command = _make_command(
                f"{parent_name}|{sub_name}".lower() if sub_name else name.lower(),
                handler, arity, flags, keys, group or self.group, acl, key_specs, tips,
                _Docs(summary, since, complexity, doc_flags, deprecated_since, replaced_by,
                      history, arguments),
            )
            if sub_name:
                parent = self._containers.get(parent_name.upper())
                if parent is None:
                    raise ValueError(f"declare container {parent_name} before {name}")
                key = sub_name.lower().encode()
                if key in parent.subcommands:
                    raise ValueError(f"duplicate subcommand {name}")
                parent.subcommands[key] = command
            else:
                self.commands.append(command)
            return handler

        return register

    def container(
        self,
        name: str,
        *,
        group: str | None = None,
        summary: str = "",
        since: str = "",
        complexity: str = "Depends on subcommand.",
        handler: Handler | None = None,
        arity: int = -2,
        flags: str = "",
        acl: str = "",
        tips: str = "",
        history: tuple[tuple[str, str], ...] = (),
    ) -> Command:
        """Declare a command whose behaviour lives in subcommands (CONFIG, CLIENT).

        ``handler`` serves the bare form when the container has one (``COMMAND``).
        """
        command = _make_command(
            name.lower(), handler, arity, flags, (0, 0, 0), group or self.group, acl, (),
            tips, _Docs(summary, since, complexity, "", "", "", history, ()),
            container=True,
        )
        if name.upper() in self._containers:
            raise ValueError(f"duplicate container {name}")
        self._containers[name.upper()] = command
        self.commands.append(command)
        return command


@dataclass(slots=True)
class _Docs:
    summary: str
    since: str
    complexity: str
    doc_flags: str
    deprecated_since: str
    replaced_by: str
    history: tuple[tuple[str, str], ...]
    arguments: tuple[dict[bytes, Any], ...]


def _make_command(
    name: str, handler: Handler | None, arity: int, flags: str,
    keys: tuple[int, int, int], group: str, acl: str, key_specs: Iterable[KeySpec | str],
    tips: str, docs: _Docs, container: bool = False,
) -> Command:
    specs = derive_key_specs(key_specs, keys, tuple(flags.split()))
    flag_set = set(flags.split())
    if is_movable(specs):
        flag_set.add("movablekeys")
    flag_list = ordered(flag_set, COMMAND_FLAGS + HIDDEN_FLAGS, "command flag")
    categories = _derive_categories(flag_list, None if container else group, acl.split())
    return Command(
        name=name,
        handler=handler,
        arity=arity,
        flags=flag_list,
        first_key=keys[0],
        last_key=keys[1],
        key_step=keys[2],
        group=group,
        acl_categories=categories,
        key_specs=specs,
        tips=tuple(tips.split()),
        summary=docs.summary,
        since=docs.since,
        complexity=docs.complexity,
        doc_flags=tuple(docs.doc_flags.split()),
        deprecated_since=docs.deprecated_since,
        replaced_by=docs.replaced_by,
        history=tuple(docs.history),
        arguments=tuple(docs.arguments),
        is_write="write" in flag_set,
        allowed_unauthenticated="no_auth" in flag_set,
        allowed_in_multi="no_multi" not in flag_set,
        denyoom="denyoom" in flag_set,
        loading_ok="loading" in flag_set,
        denied_in_scripts="noscript" in flag_set,
        may_replicate="may_replicate" in flag_set,
        allowed_while_busy="allow_busy" in flag_set,
        is_readonly="readonly" in flag_set,
    )


class CommandTable:
    """Every command by lower-case name (bytes), for dict dispatch."""

    def __init__(self) -> None:
        self.by_name: dict[bytes, Command] = {}

    def add(self, command: Command) -> None:
        key = command.name.encode()
        if key in self.by_name:
            raise ValueError(f"duplicate command {command.name!r}")
        self.by_name[key] = command

    def lookup(self, name: bytes) -> Command | None:
        command = self.by_name.get(name)
        if command is None:
            command = self.by_name.get(name.lower())
        return command

    def __iter__(self) -> Iterator[Command]:
        return iter(self.by_name.values())

    def __len__(self) -> int:
        return len(self.by_name)


def build_table(groups: Iterable[CommandGroup] | None = None) -> CommandTable:
    """Compose the command groups of every command module into one table."""
    if groups is None:
        from taipan.commands import all_groups

        groups = all_groups()
    table = CommandTable()
    for group in groups:
        for command in group.commands:
            table.add(command)
    return table
