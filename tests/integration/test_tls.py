"""TLS: the tls-* parameters over real sockets, against a Taipan process (and a real
redis-server with the same configuration where comparing is cheap).

Certificates are made at test time with trustme; nothing secret is committed.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from tests.support.servers import (
    ServerProcess,
    free_port,
    redis_server_path,
    start_redis,
    start_taipan,
)

trustme = pytest.importorskip("trustme")


@dataclass
class Certs:
    dir: str
    ca: str
    cert: str
    key: str
    client: str  # client certificate and key in one file
    other_cert: str  # a second server certificate from the same CA
    other_key: str
    other_der: bytes


@pytest.fixture(scope="module")
def certs() -> Iterator[Certs]:
    workdir = tempfile.mkdtemp(prefix="taipan-tls-")
    ca = trustme.CA()
    server = ca.issue_cert("localhost", "127.0.0.1")
    other = ca.issue_cert("other.localhost", "127.0.0.1")
    client = ca.issue_cert("client@example.com")
    paths = {name: os.path.join(workdir, name) for name in
             ("ca.pem", "cert.pem", "key.pem", "client.pem", "other.pem", "other-key.pem")}
    ca.cert_pem.write_to_path(paths["ca.pem"])
    server.cert_chain_pems[0].write_to_path(paths["cert.pem"])
    server.private_key_pem.write_to_path(paths["key.pem"])
    client.private_key_and_cert_chain_pem.write_to_path(paths["client.pem"])
    other.cert_chain_pems[0].write_to_path(paths["other.pem"])
    other.private_key_pem.write_to_path(paths["other-key.pem"])
    der = ssl.PEM_cert_to_DER_cert(other.cert_chain_pems[0].bytes().decode())
    yield Certs(workdir, paths["ca.pem"], paths["cert.pem"], paths["key.pem"],
                paths["client.pem"], paths["other.pem"], paths["other-key.pem"], der)
    shutil.rmtree(workdir, ignore_errors=True)


def tls_args(certs: Certs, tls_port: int) -> list[str]:
    return ["--tls-port", str(tls_port), "--tls-cert-file", certs.cert,
            "--tls-key-file", certs.key, "--tls-ca-cert-file", certs.ca]


@dataclass
class TlsServer:
    proc: ServerProcess
    tls_port: int

    @property
    def port(self) -> int:
        return self.proc.port

    def plain(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=5)


@pytest.fixture(scope="module")
def taipan(certs: Certs) -> Iterator[TlsServer]:
    tls_port = free_port()
    server = start_taipan(*tls_args(certs, tls_port))
    yield TlsServer(server, tls_port)
    server.stop()


@pytest.fixture(scope="module")
def reference(certs: Certs) -> Iterator[TlsServer]:
    if redis_server_path() is None:
        pytest.skip("redis-server is not installed")
    tls_port = free_port()
    server = start_redis(*tls_args(certs, tls_port))
    yield TlsServer(server, tls_port)
    server.stop()


def client_context(certs: Certs, with_cert: bool = True,
                   max_version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=certs.ca)
    if with_cert:
        context.load_cert_chain(certs.client)
    if max_version is not None:
        context.maximum_version = max_version
    return context


def ping_over_tls(port: int, context: ssl.SSLContext) -> str:
    """'PONG', or 'refused' when the handshake or the first exchange fails."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as sock:
                sock.sendall(b"PING\r\n")
                reply = sock.recv(100)
    except (ssl.SSLError, OSError):
        return "refused"
    return "PONG" if reply == b"+PONG\r\n" else "refused"


def tls_redis(server: TlsServer, certs: Certs, with_cert: bool = True) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=server.tls_port, ssl=True, socket_timeout=5,
                       ssl_ca_certs=certs.ca, ssl_certfile=certs.client if with_cert else None,
                       )


def test_mutual_tls_by_default(taipan: TlsServer, certs: Certs) -> None:
    assert ping_over_tls(taipan.tls_port, client_context(certs)) == "PONG"
    assert ping_over_tls(taipan.tls_port, client_context(certs, with_cert=False)) == "refused"
    r = tls_redis(taipan, certs)
    assert r.set("tls:k", "v")
    assert r.get("tls:k") == b"v"


@pytest.mark.parametrize("mode", ["yes", "optional", "no"])
def test_auth_clients_modes_match_redis(taipan: TlsServer, reference: TlsServer, certs: Certs,
                                        mode: str) -> None:
    outcomes = {}
    for server in (taipan, reference):
        server.plain().config_set("tls-auth-clients", mode)
        try:
            outcomes[server.proc.kind] = (
                ping_over_tls(server.tls_port, client_context(certs)),
                ping_over_tls(server.tls_port, client_context(certs, with_cert=False)))
        finally:
            server.plain().config_set("tls-auth-clients", "yes")
    expected = ("PONG", "refused") if mode == "yes" else ("PONG", "PONG")
    assert outcomes == {"taipan": expected, "redis": expected}


def test_protocol_restriction(taipan: TlsServer, certs: Certs) -> None:
    r = taipan.plain()
    r.config_set("tls-protocols", "TLSv1.3")
    try:
        assert ping_over_tls(taipan.tls_port, client_context(
            certs, max_version=ssl.TLSVersion.TLSv1_2)) == "refused"
        assert ping_over_tls(taipan.tls_port, client_context(certs)) == "PONG"
    finally:
        r.config_set("tls-protocols", "")
    assert ping_over_tls(taipan.tls_port, client_context(
        certs, max_version=ssl.TLSVersion.TLSv1_2)) == "PONG"


def test_reload_certificate_and_bad_certificate(taipan: TlsServer, reference: TlsServer,
                                                certs: Certs) -> None:
    r = taipan.plain()
    r.config_set("tls-cert-file", certs.other_cert, "tls-key-file", certs.other_key)
    try:
        with socket.create_connection(("127.0.0.1", taipan.tls_port), timeout=5) as raw:
            context = client_context(certs)
            with context.wrap_socket(raw, server_hostname="other.localhost") as sock:
                assert sock.getpeercert(binary_form=True) == certs.other_der
        errors = {}
        for server in (taipan, reference):
            with pytest.raises(redis.ResponseError) as info:
                server.plain().config_set("tls-cert-file", "/nonexistent/cert.pem")
            errors[server.proc.kind] = str(info.value)
            assert server.plain().config_get("tls-cert-file")["tls-cert-file"] != \
                "/nonexistent/cert.pem"
        assert errors["taipan"] == errors["redis"] == (
            "CONFIG SET failed (possibly related to argument 'tls-cert-file') - "
            "Unable to update TLS configuration. Check server logs.")
        # The previous context (the other certificate) still serves.
        context = client_context(certs)
        context.check_hostname = False
        assert ping_over_tls(taipan.tls_port, context) == "PONG"
    finally:
        r.config_set("tls-cert-file", certs.cert, "tls-key-file", certs.key)


def test_same_path_reloads_a_rewritten_certificate(taipan: TlsServer, certs: Certs,
                                                   tmp_path: Path) -> None:
    """Setting a certificate file to its current path reloads it (Redis's
    VOLATILE_CONFIG): certificates are rotated in place this way."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    shutil.copy(certs.cert, cert)
    shutil.copy(certs.key, key)
    r = taipan.plain()
    r.config_set("tls-cert-file", str(cert), "tls-key-file", str(key))
    try:
        shutil.copy(certs.other_cert, cert)
        shutil.copy(certs.other_key, key)
        r.config_set("tls-cert-file", str(cert), "tls-key-file", str(key))
        with socket.create_connection(("127.0.0.1", taipan.tls_port), timeout=5) as raw:
            with client_context(certs).wrap_socket(
                    raw, server_hostname="other.localhost") as sock:
                assert sock.getpeercert(binary_form=True) == certs.other_der
    finally:
        r.config_set("tls-cert-file", certs.cert, "tls-key-file", certs.key)


def test_plain_and_tls_ports_together(taipan: TlsServer, certs: Certs) -> None:
    plain, secure = taipan.plain(), tls_redis(taipan, certs)
    plain.set("both", "1")
    assert secure.incr("both") == 2
    assert plain.get("both") == b"2"
    assert secure.info("server")["tcp_port"] == taipan.port


def test_garbage_and_wrong_protocol_do_not_disturb_others(taipan: TlsServer,
                                                          certs: Certs) -> None:
    bystander = tls_redis(taipan, certs)
    bystander.set("bystander", "here")
    # Plain text (and binary garbage) to the TLS port: the handshake fails, closed.
    for junk in (b"PING\r\n", os.urandom(4096)):
        with socket.create_connection(("127.0.0.1", taipan.tls_port), timeout=5) as sock:
            sock.sendall(junk)
            try:
                while sock.recv(4096):
                    pass
            except ConnectionResetError:
                pass
    # A TLS handshake to the plain port: answered as a bad request, never a session.
    assert ping_over_tls(taipan.port, client_context(certs)) == "refused"
    assert bystander.get("bystander") == b"here"
    assert taipan.plain().ping()


def test_stalled_handshake_is_timed_out(taipan: TlsServer, certs: Certs) -> None:
    r = taipan.plain()
    r.config_set("timeout", "1")  # the handshake deadline follows a shorter timeout
    try:
        with socket.create_connection(("127.0.0.1", taipan.tls_port), timeout=5) as stalled:
            started = time.monotonic()
            # Others are served meanwhile, over TLS and plain.
            assert ping_over_tls(taipan.tls_port, client_context(certs)) == "PONG"
            assert r.ping()
            assert stalled.recv(100) == b""  # closed by the server
            assert time.monotonic() - started < 4
    finally:
        r.config_set("timeout", "0")


def test_config_set_tls_port_opens_and_closes(taipan: TlsServer, certs: Certs) -> None:
    r = taipan.plain()
    port = free_port()
    r.config_set("tls-port", str(port))
    try:
        assert ping_over_tls(port, client_context(certs)) == "PONG"
        assert ping_over_tls(taipan.tls_port, client_context(certs)) == "refused"
    finally:
        r.config_set("tls-port", str(taipan.tls_port))
    assert ping_over_tls(port, client_context(certs)) == "refused"
    assert ping_over_tls(taipan.tls_port, client_context(certs)) == "PONG"


def test_redis_cli_tls(taipan: TlsServer, certs: Certs) -> None:
    cli = shutil.which("redis-cli")
    if cli is None:
        pytest.skip("redis-cli is not installed")
    out = subprocess.run(
        [cli, "--tls", "--cacert", certs.ca, "--cert", certs.client, "--key", certs.client,
         "-p", str(taipan.tls_port), "ECHO", "hello"],
        capture_output=True, timeout=10, text=True)
    assert out.stdout.strip() == "hello", out.stderr


def test_bad_certificate_at_startup_exits(certs: Certs) -> None:
    workdir = tempfile.mkdtemp(prefix="taipan-tls-bad-")
    try:
        out = subprocess.run(
            [sys.executable, "-m", "taipan", "--port", str(free_port()), "--save", "",
             "--tls-port", str(free_port()), "--tls-cert-file", "/nonexistent.pem",
             "--tls-key-file", certs.key, "--tls-ca-cert-file", certs.ca],
            capture_output=True, timeout=20, text=True, cwd=workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    assert out.returncode == 1
    assert "Failed to load certificate: /nonexistent.pem" in out.stdout
    assert "Failed to configure TLS. Check logs for more info." in out.stdout
