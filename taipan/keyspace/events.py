"""Keyspace notifications: the one hook every key event goes through.

Commands (and the keyspace itself, for ``new``, ``expired`` and ``keymiss``) call
``Database.notify(kind, event, key)``; when ``notify-keyspace-events`` enables the
event's class, it is published as Redis does on two channels:

* ``__keyspace@<db>__:<key>`` with the event name as the message (class ``K``);
* ``__keyevent@<db>__:<event>`` with the key as the message (class ``E``).

The event's name and its place among the other events of a command belong to the
command (LPOP fires ``lpop`` then, when the list emptied, ``del``), so handlers name
them; everything else (which classes are on, the channels, publishing) lives here.
When notifications are off (the default) the hook costs one integer test.

Where many commands meet, the shared helper fires for them: each family's write
helper (``lists.written``, ``sets.changed``, ``zset_args.modified``,
``hashes.store_changed``) fires the command's event and then ``del`` for a key it
emptied, and ``Database.delete_with_event`` is the ``del`` of a *STORE command
whose result is empty (only when the destination existed). Names and order follow
Redis 7.0's notifyKeyspaceEvent calls; ``tests/compat/test_notifications_compat.py``
compares the streams with a real redis-server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

# Event classes, one bit each (the letters of notify-keyspace-events).
KEYSPACE: Final = 1 << 0  # K
KEYEVENT: Final = 1 << 1  # E
GENERIC: Final = 1 << 2  # g: DEL, EXPIRE, RENAME, ...
STRING: Final = 1 << 3  # $
LIST: Final = 1 << 4  # l
SET: Final = 1 << 5  # s
HASH: Final = 1 << 6  # h
ZSET: Final = 1 << 7  # z
EXPIRED: Final = 1 << 8  # x
EVICTED: Final = 1 << 9  # e
STREAM: Final = 1 << 10  # t
KEY_MISS: Final = 1 << 11  # m
MODULE: Final = 1 << 12  # d
NEW: Final = 1 << 13  # n

_LETTERS: Final = {"K": KEYSPACE, "E": KEYEVENT, "g": GENERIC, "$": STRING, "l": LIST,
            "s": SET, "h": HASH, "z": ZSET, "x": EXPIRED, "e": EVICTED, "t": STREAM,
            "m": KEY_MISS, "d": MODULE, "n": NEW}
# 'A': every class but key-miss and new-key.
_ALL: Final = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE

Publish = Callable[[bytes, bytes], int]


def parse_classes(text: str) -> int:
    """The bit mask for a (validated) notify-keyspace-events value."""
    mask = 0
    for letter in text:
        mask |= _ALL if letter == "A" else _LETTERS.get(letter, 0)
    # Without K or E nothing is published, whatever classes are chosen.
    if not mask & (KEYSPACE | KEYEVENT):
        return 0
    return mask


class KeyspaceEvents:
    """Which event classes fire (``mask``, 0 when off) and where they go."""

    __slots__ = ("mask", "publish", "_prefixes", "_databases")

    def __init__(self) -> None:
        self.mask = 0
        # The databases that mirror ``mask`` in their ``event_mask``.
        self._databases: list[Any] = []
        # Set by the owning Instance to its pub/sub registry's publish.
        self.publish: Publish | None = None
        self._prefixes: dict[int, tuple[bytes, bytes]] = {}

    def attach(self, db: Any) -> None:
        """``db`` fires its events here from now on."""
        db.events = self
        db.event_mask = self.mask
        self._databases.append(db)

    def configure(self, text: str) -> None:
        self.mask = parse_classes(text)
        for db in self._databases:
            db.event_mask = self.mask

    def fire(self, kind: int, event: bytes, key: bytes, db_index: int) -> None:
        """Publish one event (``kind`` already known to be enabled)."""
        publish = self.publish
        if publish is None:
            return
        prefixes = self._prefixes.get(db_index)
        if prefixes is None:
            prefixes = (b"__keyspace@%d__:" % db_index, b"__keyevent@%d__:" % db_index)
            self._prefixes[db_index] = prefixes
        mask = self.mask
        if mask & KEYSPACE:
            publish(prefixes[0] + key, event)
        if mask & KEYEVENT:
            publish(prefixes[1] + event, key)
