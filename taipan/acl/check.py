"""Whether a user may run a request: its command, the keys its key specs name, the
channels it publishes or subscribes to (Redis's ACLCheckAllUserCommandPerm).

Called from the one dispatch path (and for a script's ``redis.call``) only when the
user is restricted; the default user with every permission costs one attribute test.
"""

from __future__ import annotations

from typing import Any

from taipan.acl.rules import READ, WRITE, Selector, User
from taipan.acl.users import DENIED_CHANNEL, DENIED_CMD, DENIED_KEY
from taipan.commands.introspection import keys_for
from taipan.glob import glob_match

OK = 0
# Commands whose arguments from position 1 (or only position 1) are channels.
_SUBSCRIBE = {"subscribe": False, "ssubscribe": False, "psubscribe": True}
_PUBLISH = frozenset({"publish", "spublish"})


def check(user: User, command: Any, argv: list[bytes]) -> tuple[int, int]:
    """(OK, 0) or (the denial, the position of the key or channel refused)."""
    relevant, last = DENIED_CMD, 0
    keys: list[Any] | None = None
    for selector in user.selectors:
        result, position, keys = _check_selector(selector, command, argv, keys)
        if result == OK:
            return OK, 0
        if result > relevant or (result == relevant and position > last):
            relevant, last = result, position
    return relevant, last


def _check_selector(selector: Selector, command: Any, argv: list[bytes],
                    keys: list[Any] | None) -> tuple[int, int, list[Any] | None]:
    name = command.name
    if (not selector.all_commands and not command.allowed_unauthenticated
            and name not in selector.allowed):
        firsts = selector.firstargs.get(name)
        position = 2 if "|" in name else 1
        if not firsts or len(argv) <= position or not any(
                argv[position].lower() == first.lower() for first in firsts):
            return DENIED_CMD, 0, keys
    if not selector.all_keys:
        if keys is None:
            keys = keys_for(command, argv) or []
        for position, flags in keys:
            if not key_allowed(selector, argv[position], flags):
                return DENIED_KEY, position, keys
    if not selector.all_channels:
        for position, pattern in channels_of(name, argv):
            if not channel_allowed(selector, argv[position], pattern):
                return DENIED_CHANNEL, position, keys
    return OK, 0, keys


def key_allowed(selector: Selector, key: bytes, spec_flags: tuple[str, ...]) -> bool:
    if selector.all_keys:
        return True
    needed = 0
    if "access" in spec_flags:
        needed |= READ
    if "insert" in spec_flags or "delete" in spec_flags or "update" in spec_flags:
        needed |= WRITE
    for pattern, flags in selector.keys:
        if flags & needed == needed and glob_match(pattern, key):
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
