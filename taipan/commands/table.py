"""The declarative command table.

Each command is declared once, above its handler::

    @group.command("SET", arity=-3, flags="write denyoom", keys=(1, 1, 1))
    def set_(ctx, argv): ...

That declaration is the only source for dispatch checks, ``COMMAND`` replies, ACL
categories and MULTI rules. Command modules each build a ``CommandGroup``;
``build_table`` composes the groups into one ``CommandTable`` explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[[Any, list[bytes]], Any]

# Every ACL category, in the order Redis lists them.
ACL_CATEGORIES = (
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
    "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
    "dangerous", "connection", "transaction", "scripting",
)

# Flags Redis reports for a command, turned into ACL categories as Redis derives them.
_FLAG_CATEGORIES = {
    "write": "write",
    "readonly": "read",
    "admin": "admin",
    "pubsub": "pubsub",
    "fast": "fast",
    "blocking": "blocking",
}

# Redis's command groups and the ACL category each implies.
_GROUP_CATEGORIES = {
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


@dataclass(eq=False, slots=True)
class Command:
    name: str  # lower case; subcommands are "parent|sub" as Redis reports them
    handler: Handler | None
    arity: int
    flags: tuple[str, ...]
    first_key: int
    last_key: int
    key_step: int
    group: str
    acl_categories: tuple[str, ...]
    key_specs: tuple[dict, ...] = ()
    tips: tuple[str, ...] = ()
    summary: str = ""
    since: str = "1.0.0"
    complexity: str = ""
    doc_flags: tuple[str, ...] = ()
    arguments: tuple[dict, ...] = ()
    subcommands: dict[bytes, Command] = field(default_factory=dict)
    # Derived once from flags so dispatch tests plain booleans, not string sets.
    is_write: bool = False
    allowed_unauthenticated: bool = False
    allowed_in_multi: bool = True  # False: refused while a MULTI is open
    runs_in_multi: bool = False  # True: executes at once inside MULTI (EXEC, ...)
    denyoom: bool = False
    loading_ok: bool = False
    # Statistics for INFO commandstats.
    calls: int = 0
    usec: int = 0
    failed_calls: int = 0
    rejected_calls: int = 0

    @property
    def fullname(self) -> str:
        return self.name

    def key_positions(self, argv: list[bytes]) -> list[int]:
        """Indexes of the key arguments, from the (first, last, step) triple."""
        if self.first_key <= 0:
            return []
        last = self.last_key if self.last_key >= 0 else len(argv) + self.last_key
        return list(range(self.first_key, min(last, len(argv) - 1) + 1, self.key_step))


def _derive_categories(flags: Iterable[str], group: str, extra: Iterable[str]) -> tuple[str, ...]:
    categories: list[str] = []
    for flag in flags:
        category = _FLAG_CATEGORIES.get(flag)
        if category:
            categories.append(category)
    if "fast" not in flags:
        categories.append("slow")
    if "admin" in flags:
        categories.append("dangerous")
    group_category = _GROUP_CATEGORIES.get(group)
    if group_category:
        categories.append(group_category)
    for category in extra:
        if category.startswith("-"):
            categories = [c for c in categories if c != category[1:]]
        elif category not in categories:
            categories.append(category)
    return tuple(sorted(categories, key=ACL_CATEGORIES.index))


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
        key_specs: tuple[dict, ...] = (),
        tips: str = "",
        summary: str = "",
        since: str = "1.0.0",
        complexity: str = "",
        doc_flags: str = "",
        arguments: tuple[dict, ...] = (),
    ) -> Callable[[Handler], Handler]:
        """Declare a command (or ``"PARENT SUB"`` for a subcommand) above its handler."""

        def register(handler: Handler) -> Handler:
            parent_name, _, sub_name = name.partition(" ")
            command = _make_command(
                f"{parent_name}|{sub_name}".lower() if sub_name else name.lower(),
                handler, arity, flags, keys, group or self.group, acl, key_specs,
                tips, summary, since, complexity, doc_flags, arguments,
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
        since: str = "1.0.0",
        complexity: str = "Depends on subcommand.",
        handler: Handler | None = None,
        arity: int = -2,
        flags: str = "",
        acl: str = "",
        tips: str = "",
    ) -> Command:
        """Declare a command whose behaviour lives in subcommands (CONFIG, CLIENT).

        ``handler`` serves the bare form when the container has one (``COMMAND``).
        """
        command = _make_command(
            name.lower(), handler, arity, flags, (0, 0, 0), group or self.group, acl, (),
            tips, summary, since, complexity, "", (),
        )
        self._containers[name.upper()] = command
        self.commands.append(command)
        return command


def _make_command(
    name: str, handler: Handler | None, arity: int, flags: str,
    keys: tuple[int, int, int], group: str, acl: str, key_specs: tuple[dict, ...],
    tips: str, summary: str, since: str, complexity: str, doc_flags: str,
    arguments: tuple[dict, ...],
) -> Command:
    flag_list = tuple(flags.split())
    categories = _derive_categories(flag_list, group, acl.split())
    if handler is None:  # containers have no categories of their own
        categories = ()
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
        key_specs=key_specs,
        tips=tuple(tips.split()),
        summary=summary,
        since=since,
        complexity=complexity,
        doc_flags=tuple(doc_flags.split()),
        arguments=arguments,
        is_write="write" in flag_list,
        allowed_unauthenticated="no_auth" in flag_list,
        allowed_in_multi="no_multi" not in flag_list,
        denyoom="denyoom" in flag_list,
        loading_ok="loading" in flag_list,
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

    def __iter__(self):
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
