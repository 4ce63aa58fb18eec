"""Taipan: a Redis-compatible data-structure server in Python."""

from __future__ import annotations

__version__ = "0.1.0"

from taipan.embed import AsyncServer, Server  # noqa: E402

__all__ = ["Server", "AsyncServer", "__version__"]
