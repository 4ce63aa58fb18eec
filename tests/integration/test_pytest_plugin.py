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


TLS_CONFTEST = '''
import pytest
import trustme


@pytest.fixture(scope="session")
def ca(tmp_path_factory):
    authority = trustme.CA()
    folder = tmp_path_factory.mktemp("certs")
    cert = authority.issue_cert("localhost", "127.0.0.1")
    cert.cert_chain_pems[0].write_to_path(str(folder / "server.crt"))
    cert.private_key_pem.write_to_path(str(folder / "server.key"))
    authority.cert_pem.write_to_path(str(folder / "ca.pem"))
    return folder


@pytest.fixture(scope="session")
def taipan_server_options(ca):
    return {"tls": True, "tls_cert_file": str(ca / "server.crt"),
            "tls_key_file": str(ca / "server.key"), "tls_ca_cert_file": str(ca / "ca.pem"),
            "tls_auth_clients": "no"}
'''

TLS_TESTS = '''
import redis


def test_over_tls(taipan_tls_url, ca):
    r = redis.Redis.from_url(taipan_tls_url, ssl_ca_certs=str(ca / "ca.pem"))
    assert r.set("k", "v")
    assert r.get("k") == b"v"
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


def test_plugin_server_with_tls(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(TLS_CONFTEST)
    pytester.makepyfile(test_user=TLS_TESTS)
    args = ["-q", "-p", "no:hypothesispytest", "-p", "no:benchmark"]
    if not _installed_as_entry_point():
        args += ["-p", "taipan.pytest_plugin"]
    result = pytester.runpytest_inprocess(*args)
    result.assert_outcomes(passed=1)
