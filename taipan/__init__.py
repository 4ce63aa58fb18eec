"""Taipan: a Redis-compatible data-structure server in Python."""

from __future__ import annotations

import os

if os.environ.get("TAIPAN_PURE_PYTHON") == "1":
    # Before any other taipan import: the .py sources even beside compiled modules.
    from taipan.pure_import import install

    install()

__version__ = "0.1.0"

from taipan.embed import AsyncServer, Server  # noqa: E402

__all__ = ["Server", "AsyncServer", "__version__"]
