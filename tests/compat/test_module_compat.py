"""MODULE against a real Redis 7.0 with no module loaded: LIST and HELP answer, LOAD,
LOADEX and UNLOAD are refused by ``enable-module-command no`` (the default), and
arity and unknown-subcommand errors are Redis's."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize("args", [
    ("MODULE", "LIST"),
    ("MODULE", "HELP"),
    ("MODULE", "LOAD", "/nonexistent/module.so"),
    ("MODULE", "LOADEX", "/nonexistent/module.so", "CONFIG", "a", "b"),
    ("MODULE", "UNLOAD", "nosuchmodule"),
    ("MODULE", "UNLOAD"),
    ("MODULE", "LIST", "extra"),
    ("MODULE", "NOSUCH"),
    ("MODULE",),
])
def test_module_replies(differ: Any, args: tuple[str, ...]) -> None:
    differ.check(*args)
