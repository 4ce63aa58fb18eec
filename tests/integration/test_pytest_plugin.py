"""The pytest plugin users get with taipan: ``taipan_server`` and ``taipan_url``."""

from __future__ import annotations

import importlib.metadata

import pytest

pytest_plugins = ["pytester"]

USER_TESTS = '''
import redis


def test_first(taipan_url):
    r = redis.Redis.from_url(taipan_url)
    assert r.set("shared", "1")
    assert r.dbsize() == 1


def test_flushed_between_tests(taipan_url, taipan_server):
    r = redis.Redis.from_url(taipan_url)
    assert r.dbsize() == 0
    assert taipan_url == taipan_server.url


def test_same_server_for_the_session(taipan_server):
    r = redis.Redis(port=taipan_server.port)
    assert r.ping()
    assert r.info("server")["redis_version"] == "7.0.15"
'''


def _installed_as_entry_point() -> bool:
    return any(ep.value == "taipan.pytest_plugin"
               for ep in importlib.metadata.entry_points(group="pytest11"))


def test_plugin_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    # Installed, the plugin loads by itself (entry point); from a source tree, by name.
    args = ["-q", "-p", "no:hypothesispytest", "-p", "no:benchmark"]  # faster start
    if not _installed_as_entry_point():
        args += ["-p", "taipan.pytest_plugin"]
    result = pytester.runpytest_inprocess(*args)
    result.assert_outcomes(passed=3)
