"""Whether a user may run a request: its command, the keys its key specs name, the
channels it publishes or subscribes to (Redis's ACLCheckAllUserCommandPerm).

Called from the one dispatch path (and for a script's ``redis.call``) only when the
user is restricted; the default user with every permission costs one attribute test.
"""

from __future__ import annotations

from typing import Any

from taipan.acl.rules import READ, WRITE, Selector, User
from taipan.acl.users import DENIED_CHANNEL, DENIED_CMD, DENIED_KEY
from taipan.commands.introspection import getkeys_proc, keys_for
from taipan.glob import glob_match

OK = 0
# Commands whose arguments from position 1 (or only position 1) are channels.
_SUBSCRIBE = {"subscribe": False, "ssubscribe": False, "psubscribe": True}
_PUBLISH = frozenset({"publish", "spublish"})


def check(user: User, command: Any, argv: list[bytes]) -> tuple[int, int]:
    """(OK, 0) or (the denial, the position of the key or channel refused)."""
    selectors = user.selectors
    if len(selectors) == 1:  # the usual user: one selector, nothing to rank
        result, position, _ = _check_selector(selectors[0], command, argv, None)
        return result, position
    relevant, last = DENIED_CMD, 0
    keys: list[tuple[int, int]] | None = None
    for selector in user.selectors:
        result, position, keys = _check_selector(selector, command, argv, keys)
        if result == OK:
            return OK, 0
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
