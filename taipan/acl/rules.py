"""ACL users and selectors, the rules that change them, and their description.

A user holds flags, password hashes (SHA-256, hex) and selectors: the root selector
(rules given outside parentheses) and any number of ``(...)`` selectors. A command
is allowed when one selector allows it, its keys and its channels. A selector keeps
what Redis 7.0 keeps: the set of allowed commands (by full name, ``config|get``),
the reserved "future commands" bit that only ``+@all`` sets, allowed first
arguments (``+select|0``), key patterns with read/write permissions and channel
patterns. Rule texts, error texts and the description ACL LIST and GETUSER show
follow Redis's acl.c, including the way descriptions pick categories.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from taipan.commands.table import ACL_CATEGORIES
from taipan.errors import ReplyError
from taipan.glob import glob_match
from taipan.protocol.reader import split_inline

READ = 1
WRITE = 2
ALL_PERMISSIONS = READ | WRITE

# Why a rule was refused (Redis's errno values), with Redis's texts.
EINVAL = "Syntax error"
ENOENT = "Unknown command or category name in ACL"
EEXIST = ("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and "
          "does not have any effect. Try 'resetkeys' to start with an empty list of patterns")
EISDIR = ("Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and "
          "does not have any effect. Try 'resetchannels' to start with an empty list of "
          "channels")
ENODEV = "The password you are trying to remove from the user does not exist"
EBADMSG = ("The password hash must be exactly 64 characters and contain only lowercase "
           "hexadecimal characters")
ECHILD = "Allowing first-arg of a subcommand is not supported"

# User flags in the order descriptions list them.
USER_FLAGS = ("on", "off", "nopass", "skip-sanitize-payload", "sanitize-payload")
_HEX = frozenset(b"0123456789abcdef")
_SPACES = frozenset(b" \t\n\v\f\r\x00")


class RuleError(Exception):
    """A rule Redis refuses; ``reason`` is one of the texts above."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def hash_password(password: bytes) -> str:
    return hashlib.sha256(password).hexdigest()


def has_spaces(text: bytes) -> bool:
    return any(byte in _SPACES for byte in text)


class CommandIndex:
    """The command table as ACL rules see it: every command and subcommand by full
    name, in table order, and by category. Built from the original table, so ACLs
    hold across rename-command."""

    def __init__(self, table: Iterable[Any]) -> None:
        self.commands: list[Any] = []  # parents, each followed by its subcommands
        self.by_name: dict[str, Any] = {}
        self.children: dict[str, list[str]] = {}
        for command in table:
            self.commands.append(command)
            self.by_name[command.name] = command
            subs = list(command.subcommands.values())
            self.children[command.name] = [sub.name for sub in subs]
            for sub in subs:
                self.commands.append(sub)
                self.by_name[sub.name] = sub
        self.names = [command.name for command in self.commands]
        self.by_category: dict[str, list[str]] = {
            category: [c.name for c in self.commands if category in c.acl_categories]
            for category in ACL_CATEGORIES}

    def lookup(self, name: str) -> Any:
        """A command by ``name`` or ``name|sub`` (Redis's ACLLookupCommand)."""
        parts = name.lower().split("|")
        if len(parts) == 1:
            return self.by_name.get(parts[0])
        if len(parts) == 2 and self.children.get(parts[0]):
            return self.by_name.get(f"{parts[0]}|{parts[1]}")
        return None


class Selector:
    __slots__ = ("allowed", "future", "all_commands", "firstargs", "all_keys", "keys",
                 "all_channels", "channels", "key_matchers")

    def __init__(self, all_channels: bool = False) -> None:
        self.allowed: set[str] = set()
        self.future = False  # +@all's reserved bit: commands added later are allowed
        self.all_commands = False  # +@all and nothing removed since: no bit checks
        self.firstargs: dict[str, list[bytes]] = {}  # command -> allowed first arguments
        self.all_keys = False
        self.keys: list[list[Any]] = []  # [pattern, READ|WRITE]
        # (READ|WRITE, a predicate on the key) per pattern, for the checks.
        self.key_matchers: list[tuple[int, Callable[[bytes], bool]]] = []
        self.all_channels = all_channels
        self.channels: list[bytes] = []

    def copy(self) -> Selector:
        twin = Selector(self.all_channels)
        twin.allowed = set(self.allowed)
        twin.future = self.future
        twin.all_commands = self.all_commands
        twin.firstargs = {name: list(args) for name, args in self.firstargs.items()}
        twin.all_keys = self.all_keys
        twin.keys = [list(pattern) for pattern in self.keys]
        twin.key_matchers = list(self.key_matchers)
        twin.channels = list(self.channels)
        return twin

    def _keys_changed(self) -> None:
        self.key_matchers = [(flags, key_matcher(pattern)) for pattern, flags in self.keys]

    # -- commands --------------------------------------------------------------------

    def change(self, index: CommandIndex, name: str, allow: bool) -> None:
        """Allow or deny ``name`` and, for a container, all its subcommands
        (Redis's ACLChangeSelectorPerm)."""
        self._set_bit(name, allow)
        self.firstargs.pop(name, None)
        for sub in index.children.get(name, ()):
            self._set_bit(sub, allow)

    def _set_bit(self, name: str, allow: bool) -> None:
        if allow:
            self.allowed.add(name)
        else:
            self.allowed.discard(name)
            self.all_commands = False

    def set_category(self, index: CommandIndex, category: str, allow: bool) -> None:
        for name in index.by_category[category]:
            self.change(index, name, allow)

    def set_all(self, index: CommandIndex, allow: bool) -> None:
        self.allowed = set(index.names) if allow else set()
        self.future = self.all_commands = allow
        self.firstargs = {}

    # -- one rule ----------------------------------------------------------------------

    def apply(self, index: CommandIndex, op: bytes, pubsub_all: bool) -> None:
        """One selector rule (Redis's ACLSetSelector); RuleError when refused."""
        lower = op.lower()
        if lower in (b"allkeys", b"~*"):
            self.all_keys = True
            self.keys = []
            self.key_matchers = []
        elif lower == b"resetkeys":
            self.all_keys = False
            self.keys = []
            self.key_matchers = []
        elif lower in (b"allchannels", b"&*"):
            self.all_channels = True
            self.channels = []
        elif lower == b"resetchannels":
            self.all_channels = False
            self.channels = []
        elif lower in (b"allcommands", b"+@all"):
            self.set_all(index, True)
        elif lower in (b"nocommands", b"-@all"):
            self.set_all(index, False)
        elif op[:1] in (b"~", b"%"):
            self._add_key_pattern(op)
        elif op[:1] == b"&":
            if self.all_channels:
                raise RuleError(EISDIR)
            pattern = op[1:]
            if has_spaces(pattern):
                raise RuleError(EINVAL)
            if pattern not in self.channels:
                self.channels.append(pattern)
        elif op[:1] == b"+" and op[1:2] != b"@":
            self._allow_command(index, op[1:].decode("utf-8", "surrogateescape"))
        elif op[:1] == b"-" and op[1:2] != b"@":
            command = index.lookup(op[1:].decode("utf-8", "surrogateescape"))
            if command is None:
                raise RuleError(ENOENT)
            self.change(index, command.name, False)
        elif op[:1] in (b"+", b"-") and op[1:2] == b"@":
            category = op[2:].decode("utf-8", "surrogateescape").lower()
            if category not in index.by_category:
                raise RuleError(ENOENT)
            self.set_category(index, category, op[:1] == b"+")
        else:
            raise RuleError(EINVAL)

    def _add_key_pattern(self, op: bytes) -> None:
        if self.all_keys:
            raise RuleError(EEXIST)
        flags = 0
        offset = 1
        if op[:1] == b"%":
            while offset < len(op):
                char = op[offset:offset + 1].upper()
                if char == b"R" and not flags & READ:
                    flags |= READ
                elif char == b"W" and not flags & WRITE:
                    flags |= WRITE
                elif char == b"~":
                    offset += 1
                    break
                else:
                    raise RuleError(EINVAL)
                offset += 1
            if not flags and offset < len(op):
                raise RuleError(EINVAL)  # "%~x": a pattern allowing nothing
        else:
            flags = ALL_PERMISSIONS
        pattern = op[offset:]
        if has_spaces(pattern):
            raise RuleError(EINVAL)
        for existing in self.keys:
            if existing[0] == pattern:
                existing[1] |= flags
                break
        else:
            self.keys.append([pattern, flags])
        self._keys_changed()
        self.all_keys = False

    def _allow_command(self, index: CommandIndex, spec: str) -> None:
        if "|" not in spec:
            command = index.lookup(spec)
            if command is None:
                raise RuleError(ENOENT)
            self.change(index, command.name, True)
            return
        base, _, first = spec.rpartition("|")
        command = index.lookup(base)
        if command is None:
            raise RuleError(ENOENT)
        if "|" in command.name:
            raise RuleError(ECHILD)
        if not first:
            raise RuleError(EINVAL)
        if index.children.get(command.name):
            sub = index.lookup(spec)
            if sub is None:
                raise RuleError(ENOENT)
            self.change(index, sub.name, True)
            return
        # A first argument of a command without subcommands (SELECT|0): allowed
        # although the command isn't (deprecated in Redis, still accepted).
        allowed = self.firstargs.setdefault(command.name, [])
        encoded = first.encode("utf-8", "surrogateescape")
        if not any(arg.lower() == encoded.lower() for arg in allowed):
            allowed.append(encoded)

    # -- description -------------------------------------------------------------------

    def describe_commands(self, index: CommandIndex) -> str:
        """The command rules that rebuild this selector (ACLDescribeSelectorCommandRules):
        +@all or -@all, the categories that fit best, then single commands."""
        additive = not self.future
        rules = ["-@all" if additive else "+@all"]
        fake = Selector()
        fake.set_all(index, not additive)
        temp = set(self.allowed)
        applied: set[str] = set()
        while True:
            best = None
            min_diff, max_same = 1 << 30, 0
            for category in ACL_CATEGORIES:
                if category in applied:
                    continue
                names = index.by_category[category]
                on = sum(1 for name in names if name in temp)
                off = len(names) - on
                diff, same = (off, on) if additive else (on, off)
                if same > diff and (diff < min_diff or (diff == min_diff and same > max_same)):
                    best, min_diff, max_same = category, diff, same
            if best is None:
                break
            fake.set_category(index, best, additive)
            for name in index.by_category[best]:
                # The inverse on the temporary copy (its subcommands follow too).
                _change_set(temp, index, name, not additive)
            rules.append(("+@" if additive else "-@") + best)
            applied.add(best)
        for command in index.commands:
            name = command.name
            user_bit = name in self.allowed
            if user_bit != (name in fake.allowed):
                rules.append(("+" if user_bit else "-") + name)
                fake.change(index, name, user_bit)
            if not user_bit:
                for first in self.firstargs.get(name, ()):
                    rules.append(f"+{name}|{first.decode('utf-8', 'surrogateescape')}")
        return " ".join(rules)

    def describe_keys(self) -> list[str]:
        if self.all_keys:
            return ["~*"]
        return [_pattern_text(pattern, flags) for pattern, flags in self.keys]

    def describe_channels(self) -> list[str]:
        if self.all_channels:
            return ["&*"]
        return ["&" + pattern.decode("utf-8", "surrogateescape") for pattern in self.channels]

    def describe(self, index: CommandIndex) -> str:
        """Keys, channels and commands as ACL LIST shows a selector."""
        parts = self.describe_keys()
        if self.all_channels:
            parts.append("&*")
        else:
            parts.append("resetchannels")
            parts.extend(self.describe_channels())
        parts.append(self.describe_commands(index))
        return " ".join(parts)


def key_matcher(pattern: bytes) -> Callable[[bytes], bool]:
    """A predicate for keys matching ``pattern`` (Redis's stringmatchlen), with the
    common shapes (``*``, ``prefix*``, a literal) spared the glob engine."""
    if pattern == b"*":
        return lambda key: True
    body = pattern[:-1] if pattern.endswith(b"*") else pattern
    if not any(char in body for char in b"*?[\\"):
        if body is pattern:
            return pattern.__eq__
        return lambda key: key.startswith(body)
    return lambda key: glob_match(pattern, key)


def _change_set(names: set[str], index: CommandIndex, name: str, allow: bool) -> None:
    for item in (name, *index.children.get(name, ())):
        if allow:
            names.add(item)
        else:
            names.discard(item)


def _pattern_text(pattern: bytes, flags: int) -> str:
    prefix = {ALL_PERMISSIONS: "~", READ: "%R~", WRITE: "%W~"}.get(flags, "~")
    return prefix + pattern.decode("utf-8", "surrogateescape")


class User:
    __slots__ = ("name", "flags", "passwords", "selectors", "unrestricted", "checkers")

    def __init__(self, name: bytes, pubsub_all: bool = False) -> None:
        self.name = name
        self.flags: set[str] = {"off"}
        self.passwords: list[str] = []  # SHA-256 hex digests, in the order added
        self.selectors: list[Selector] = [Selector(pubsub_all)]  # the root first
        # May run anything on any key and channel: dispatch skips the checks.
        self.unrestricted = False
        # command -> its permission check for this user, built on first use
        # (taipan/acl/check.py); emptied whenever a rule changes.
        self.checkers: dict[Any, Callable[[list[bytes]], tuple[int, int]]] = {}

    @property
    def root(self) -> Selector:
        return self.selectors[0]

    @property
    def enabled(self) -> bool:
        return "on" in self.flags

    @property
    def nopass(self) -> bool:
        return "nopass" in self.flags

    def copy(self) -> User:
        twin = User(self.name)
        twin.flags = set(self.flags)
        twin.passwords = list(self.passwords)
        twin.selectors = [selector.copy() for selector in self.selectors]
        return twin

    def replace_with(self, other: User) -> None:
        self.checkers = {}
        self.flags = other.flags
        self.passwords = other.passwords
        self.selectors = other.selectors

    def apply(self, index: CommandIndex, op: bytes, pubsub_all: bool) -> None:
        """One rule (Redis's ACLSetUser); RuleError when refused."""
        if not op:
            return
        self.checkers = {}
        lower = op.lower()
        if lower in (b"on", b"off"):
            self.flags.discard("off" if lower == b"on" else "on")
            self.flags.add(lower.decode())
        elif lower in (b"skip-sanitize-payload", b"sanitize-payload"):
            other = "sanitize-payload" if lower == b"skip-sanitize-payload" else \
                "skip-sanitize-payload"
            self.flags.discard(other)
            self.flags.add(lower.decode())
        elif lower == b"nopass":
            self.flags.add("nopass")
            self.passwords = []
        elif lower == b"resetpass":
            self.flags.discard("nopass")
            self.passwords = []
        elif op[:1] in (b">", b"#"):
            digest = hash_password(op[1:]) if op[:1] == b">" else _checked_hash(op[1:])
            if digest not in self.passwords:
                self.passwords.append(digest)
            self.flags.discard("nopass")
        elif op[:1] in (b"<", b"!"):
            digest = hash_password(op[1:]) if op[:1] == b"<" else _checked_hash(op[1:])
            if digest not in self.passwords:
                raise RuleError(ENODEV)
            self.passwords.remove(digest)
        elif op[:1] == b"(" and op[-1:] == b")":
            selector = Selector(pubsub_all)
            for inner in split_args(op[1:-1]):
                selector.apply(index, inner, pubsub_all)
            self.selectors.append(selector)
        elif lower == b"clearselectors":
            del self.selectors[1:]
        elif lower == b"reset":
            for rule in (b"resetpass", b"resetkeys", b"resetchannels"):
                self.apply(index, rule, pubsub_all)
            if pubsub_all:
                self.apply(index, b"allchannels", pubsub_all)
            for rule in (b"off", b"sanitize-payload", b"clearselectors", b"-@all"):
                self.apply(index, rule, pubsub_all)
        else:
            self.root.apply(index, op, pubsub_all)

    def describe(self, index: CommandIndex) -> str:
        """ACL LIST's text after ``user <name>`` (Redis's ACLDescribeUser)."""
        parts = [flag for flag in USER_FLAGS if flag in self.flags]
        parts.extend("#" + digest for digest in self.passwords)
        text = " ".join(parts)
        root = self.root.describe(index)
        text = f"{text} {root}" if text else root
        for selector in self.selectors[1:]:
            text += f" ({selector.describe(index)})"
        return text


def _checked_hash(text: bytes) -> str:
    if len(text) != 64 or any(byte not in _HEX for byte in text):
        raise RuleError(EBADMSG)
    return text.decode()


def split_args(text: bytes) -> list[bytes]:
    """Redis's sdssplitargs for a selector's inner rules (quotes allowed); unbalanced
    quotes give no rules at all, as there."""
    try:
        return split_inline(text)
    except ReplyError:
        return []


def merge_selector_args(args: Sequence[bytes]) -> list[bytes] | int:
    """Join ``(...)`` selectors spread over several arguments (ACL SETUSER bob (~x
    +get)); the index of an unmatched ``(`` as an int when one is left open."""
    merged: list[bytes] = []
    open_at = -1
    current = b""
    for i, op in enumerate(args):
        if op[:1] == b"(" and op[-1:] != b")":
            open_at, current = i, op  # (a second one restarts it, as in Redis)
            continue
        if open_at >= 0:
            current += b" " + op
            if op[-1:] == b")":
                merged.append(current)
                open_at = -1
            continue
        merged.append(op)
    return open_at if open_at >= 0 else merged
