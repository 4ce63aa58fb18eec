"""Whether a user may run a request: its command, the keys its key specs name, the
channels it publishes or subscribes to (Redis's ACLCheckAllUserCommandPerm).

Called from the one dispatch path (and for a script's ``redis.call``) only when the
user is restricted; the default user with every permission costs one attribute test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from taipan.acl.rules import READ, WRITE, Selector, User
from taipan.acl.users import DENIED_CHANNEL, DENIED_CMD, DENIED_KEY
from taipan.commands.introspection import getkeys_proc, keys_for
from taipan.glob import glob_match

OK: Final = 0
# Commands whose arguments from position 1 (or only position 1) are channels.
_SUBSCRIBE = {"subscribe": False, "ssubscribe": False, "psubscribe": True}
_PUBLISH = frozenset({"publish", "spublish"})


ALLOWED = (OK, 0)
Checker = Callable[[list[bytes]], tuple[int, int]]


def check(user: User, command: Any, argv: list[bytes]) -> tuple[int, int]:
    """(OK, 0) or (the denial, the position of the key or channel refused).

    What a user's rules mean for one command is worked out on its first use and kept
    on the user (cleared whenever a rule changes), so a restricted user's usual
    request costs a dict lookup and a key-pattern test."""
    checker = user.checkers.get(command)
    if checker is None:
        checker = user.checkers[command] = _checker_for(user, command)
    return checker(argv)


def _checker_for(user: User, command: Any) -> Checker:
    """A check specialised to ``command`` for the common case (one selector, the
    command allowed, keys at fixed positions, no channels), else the general walk."""
    general: Checker = lambda argv: _check_all(user, command, argv)  # noqa: E731
    if len(user.selectors) != 1:
        return general
    selector = user.root
    name = command.name
    if not (selector.all_commands or name in selector.allowed
            or command.allowed_unauthenticated):
        if selector.firstargs.get(name):
            return general
        return lambda argv: (DENIED_CMD, 0)
    if not selector.all_channels and (name in _PUBLISH or name in _SUBSCRIBE):
        return general
    if selector.all_keys:
        return lambda argv: ALLOWED
    plan = _PLANS.get(name)
    if plan is None:
        plan = _PLANS[name] = _plan(command)
    fixed, reach, finder = plan
    if finder is _set_keys:
        return _set_checker(selector)
    if fixed is None:
        return general
    if not fixed:
        return lambda argv: ALLOWED
    if len(fixed) == 1:
        position, needed = fixed[0]
        prefix = _sole_prefix(selector, needed)
        if prefix is not None:
            def one_prefixed_key(argv: list[bytes]) -> tuple[int, int]:
                if len(argv) > position and not argv[position].startswith(prefix):
                    return DENIED_KEY, position
                return ALLOWED
            return one_prefixed_key
    positions = [(position, _matchers(selector, needed)) for position, needed in fixed]
    if len(positions) == 1 and len(positions[0][1]) == 1:
        position, (matches,) = positions[0]

        def one_key(argv: list[bytes]) -> tuple[int, int]:
            if len(argv) > position and not matches(argv[position]):
                return DENIED_KEY, position
            return ALLOWED
        return one_key

    def fixed_keys(argv: list[bytes]) -> tuple[int, int]:
        count = len(argv)
        for position, matchers in positions:
            if position < count:
                key = argv[position]
                for matches in matchers:
                    if matches(key):
                        break
                else:
                    return DENIED_KEY, position
        return ALLOWED
    return fixed_keys


def _matchers(selector: Selector, needed: int) -> tuple[Callable[[bytes], bool], ...]:
    """The key predicates of the patterns granting ``needed`` (READ, WRITE or both)."""
    return tuple(matches for flags, matches in selector.key_matchers
                 if flags & needed == needed)


def _sole_prefix(selector: Selector, needed: int) -> bytes | None:
    """The prefix when one pattern alone grants ``needed`` and it is ``prefix*``
    (the usual tenant rule), so the check is one ``startswith``."""
    granting = [pattern for pattern, flags in selector.keys if flags & needed == needed]
    if len(granting) != 1 or not granting[0].endswith(b"*"):
        return None
    prefix = granting[0][:-1]
    if any(char in prefix for char in b"*?[\\"):
        return None
    return prefix


def _set_checker(selector: Selector) -> Checker:
    writable, readable = _matchers(selector, WRITE), _matchers(selector, READ | WRITE)
    prefix = _sole_prefix(selector, WRITE)

    def set_key(argv: list[bytes]) -> tuple[int, int]:
        if len(argv) == 3 and prefix is not None:  # a plain SET key value
            return ALLOWED if argv[1].startswith(prefix) else (DENIED_KEY, 1)
        matchers = readable if _set_keys(argv) is _SET_READS_TOO else writable
        key = argv[1]
        for matches in matchers:
            if matches(key):
                return ALLOWED
        return DENIED_KEY, 1
    return set_key


def _check_all(user: User, command: Any, argv: list[bytes]) -> tuple[int, int]:
    """Every selector in turn; the most relevant denial when none allows the request."""
    relevant, last = DENIED_CMD, 0
    keys: list[tuple[int, int]] | None = None
    for selector in user.selectors:
        result, position, keys = _check_selector(selector, command, argv, keys)
        if result == OK:
            return ALLOWED
        if result > relevant or (result == relevant and position > last):
            relevant, last = result, position
    return relevant, last


def _check_selector(selector: Selector, command: Any, argv: list[bytes],
                    keys: list[tuple[int, int]] | None,
                    ) -> tuple[int, int, list[tuple[int, int]] | None]:
    name = command.name
    if (not selector.all_commands and name not in selector.allowed
            and not command.allowed_unauthenticated
            and not _first_arg_allowed(selector, name, argv)):
        return DENIED_CMD, 0, keys
    if not selector.all_keys:
        if keys is None:
            keys = keys_needed(command, argv)
        matchers = selector.key_matchers
        for position, needed in keys:
            key = argv[position]
            for flags, matches in matchers:
                if flags & needed == needed and matches(key):
                    break
            else:
                return DENIED_KEY, position, keys
    if not selector.all_channels:
        for position, pattern in channels_of(name, argv):
            if not channel_allowed(selector, argv[position], pattern):
                return DENIED_CHANNEL, position, keys
    return OK, 0, keys


def _first_arg_allowed(selector: Selector, name: str, argv: list[bytes]) -> bool:
    """``+select|0``: the command is denied but this first argument allowed."""
    firsts = selector.firstargs.get(name)
    position = 2 if "|" in name else 1
    if not firsts or len(argv) <= position:
        return False
    wanted = argv[position].lower()
    return any(wanted == first.lower() for first in firsts)


def keys_needed(command: Any, argv: list[bytes]) -> list[tuple[int, int]]:
    """(position, READ|WRITE needed) of each key of the request. The way to find them
    is worked out once per command: fixed positions (GET, HSET ...) or the command's
    own procedure (SET, SORT ...) straight away."""
    plan = _PLANS.get(command.name)
    if plan is None:
        plan = _PLANS[command.name] = _plan(command)
    fixed, reach, finder = plan
    if fixed is not None:
        if len(argv) > reach:
            return fixed
        return [entry for entry in fixed if entry[0] < len(argv)]
    if finder is _set_keys:
        return _set_keys(argv)
    return [(position, _needed(flags)) for position, flags in finder(argv) or ()]


_SET_WRITES = [(1, WRITE)]
_SET_READS_TOO = [(1, READ | WRITE)]  # SET ... GET reads the old value


def _set_keys(argv: list[bytes]) -> list[tuple[int, int]]:
    for arg in argv[3:]:
        if arg.lower() == b"get":
            return _SET_READS_TOO
    return _SET_WRITES


# Per command: (fixed (position, needed) list or None, its highest position, finder).
_PLANS: dict[str, tuple[list[tuple[int, int]] | None, int, Any]] = {}


def _plan(command: Any) -> tuple[list[tuple[int, int]] | None, int, Any]:
    fixed = _fixed_positions(command)
    if fixed is not None:
        return fixed, max((p for p, _ in fixed), default=0), None
    if command.name == "set":
        return None, 0, _set_keys  # the hottest write: no conversion per call
    proc = getkeys_proc(command)
    variable = any("variable_flags" in spec["flags"] for spec in command.key_specs)
    if proc is not None and (variable or not command.has_keys()):
        return None, 0, proc
    return None, 0, lambda argv: keys_for(command, argv)


def _fixed_positions(command: Any) -> list[tuple[int, int]] | None:
    """The key positions when the key specs alone fix them: index begin-search and a
    range of known length, no variable flags, no procedure of its own."""
    if getkeys_proc(command) is not None:
        return None
    plan = []
    for spec in command.key_specs:
        flags = spec["flags"]
        if "not_key" in flags:
            continue
        begin, find = spec["begin_search"], spec["find_keys"]
        if (begin["type"] != "index" or find["type"] != "range" or "variable_flags" in flags
                or "incomplete" in flags or find["spec"]["lastkey"] < 0):
            return None
        first = begin["spec"]["index"]
        last = first + find["spec"]["lastkey"]
        plan.extend((i, needed_for(flags)) for i in range(first, last + 1,
                                                          find["spec"]["keystep"]))
    return plan


_NEEDED: dict[tuple[str, ...], int] = {}


def _needed(flags: tuple[str, ...]) -> int:
    needed = _NEEDED.get(flags)
    if needed is None:
        needed = _NEEDED[flags] = needed_for(flags)
    return needed


def needed_for(flags: tuple[str, ...]) -> int:
    """The permissions a key-spec's flags ask for (Redis's ACLSelectorCheckKey)."""
    needed = READ if "access" in flags else 0
    if "insert" in flags or "delete" in flags or "update" in flags:
        needed |= WRITE
    return needed


def unrestricted_key_access(user: User, command: Any, argv: list[bytes],
                            needed: int = READ) -> bool:
    """Some selector allows the request and every key for ``needed`` (``~*``,
    ``%R~*``): SORT's BY and GET patterns need it (ACLUserCheckCmdWithUnrestrictedKeyAccess)."""
    if user.unrestricted:
        return True
    for selector in user.selectors:
        if _check_selector(selector, command, argv, None)[0] != OK:
            continue
        if selector.all_keys or any(pattern == b"*" and flags & needed == needed
                                    for pattern, flags in selector.keys):
            return True
    return False


def channels_of(name: str, argv: list[bytes]) -> list[tuple[int, bool]]:
    """(position, is a pattern) of the channels a command publishes or subscribes to."""
    if name in _PUBLISH:
        return [(1, False)] if len(argv) > 1 else []
    pattern = _SUBSCRIBE.get(name)
    if pattern is None:
        return []
    return [(i, pattern) for i in range(1, len(argv))]


def channel_allowed(selector: Selector, channel: bytes, is_pattern: bool) -> bool:
    """A channel matches the selector's patterns; a PSUBSCRIBE pattern only
    literally equal ones."""
    if selector.all_channels:
        return True
    for allowed in selector.channels:
        if (allowed == channel) if is_pattern else glob_match(allowed, channel):
            return True
    return False


def user_channel_allowed(user: User, channel: bytes, is_pattern: bool) -> bool:
    return any(channel_allowed(selector, channel, is_pattern) for selector in user.selectors)
