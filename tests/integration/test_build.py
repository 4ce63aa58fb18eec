"""Which build runs: ``run-tests`` runs the suite once on the pure-Python build and
once on the mypyc-compiled one and says which it expects (TAIPAN_EXPECT_BUILD), so a
compiled run that silently fell back to pure Python fails here instead of passing
twice on the same code."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import redis
from support.servers import ServerProcess

import taipan.dispatch
from taipan.hot_path import COMPILED_MODULES, PURE_ENV, build_kind

EXPECTED = os.environ.get("TAIPAN_EXPECT_BUILD")


def test_info_names_the_build(taipan: ServerProcess) -> None:
    client = redis.Redis(port=taipan.port)
    try:
        reported = client.info("server")["taipan_build"]
    finally:
        client.close()
    assert reported in ("mypyc", "pure-python")
    assert reported == build_kind()  # the server runs what this process imports


@pytest.mark.skipif(EXPECTED is None, reason="TAIPAN_EXPECT_BUILD not set (run-tests sets it)")
def test_the_expected_build_runs() -> None:
    assert build_kind() == EXPECTED
    if EXPECTED == "mypyc":
        # Every hot-path module, not only dispatch, came from a compiled extension.
        for path in COMPILED_MODULES:
            name = path.removesuffix(".py").replace("/", ".")
            module = sys.modules.get(name) or __import__(name, fromlist=["_"])
            assert not module.__file__.endswith(".py"), name


def test_pure_switch_loads_sources() -> None:
    """TAIPAN_PURE_PYTHON=1 loads every module from its .py file, compiled or not."""
    code = ("import taipan.dispatch, taipan.net.connection\n"
            "from taipan.hot_path import build_kind\n"
            "print(build_kind(), taipan.dispatch.__file__, taipan.net.connection.__file__)")
    env = dict(os.environ, **{PURE_ENV: "1"})
    out = subprocess.run([sys.executable, "-P", "-c", code], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    assert out[0] == "pure-python"
    assert all(path.endswith(".py") for path in out[1:])
    assert os.path.dirname(out[1]) == os.path.dirname(taipan.dispatch.__file__)
