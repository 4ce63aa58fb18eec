"""The list type: a deque (O(1) at both ends, like Redis's quicklist)."""

from __future__ import annotations

from collections import deque
from typing import Any


class RedisList(deque):
    """A Redis list. Redis 7.0 reports every list as "quicklist"."""

    __slots__ = ()
    TYPE_NAME = "list"

    def encoding(self, config: Any) -> str:
        return "quicklist"

    def copy(self) -> RedisList:
        return RedisList(self)
