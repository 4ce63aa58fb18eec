"""TLS: the server's SSL context built from the ``tls-*`` parameters, and the accept path.

Redis 7.0's rules (``tls.c``): the context is built whole from the configuration and
replaces the old one only when every step worked, so a CONFIG SET naming a bad
certificate fails and the server keeps serving with the previous context. Each step
that fails logs Redis's warning. ``tls-auth-clients`` is read per connection.

Accepting: a TLS listener is a plain asyncio server whose protocol factory wraps each
accepted socket in the event loop's own TLS protocol (asyncio's or uvloop's
``SSLProtocol``, what ``create_server(ssl=...)`` does) with the context current at
that moment, so a reloaded certificate serves new connections at once
(``create_server(ssl=)`` fixes one context per listener; ``loop.start_tls`` after
accepting loses the ClientHello under uvloop, which starts reading at once). The
handshake runs concurrently with every other client and has a deadline; a client that
fails it is logged and dropped, and only then does the usual ``Connection`` (and a
client) exist, as after Redis's clientAcceptHandler.

The ``ssl`` module has no call for TLSv1.3 ciphersuites or the server session cache;
those go to OpenSSL's own functions through ctypes (on the ``SSL_CTX`` the context
wraps, found and checked once), and are skipped with a warning where that isn't
possible.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from taipan.config_values import ConfigError

if TYPE_CHECKING:
    from taipan.config import Config
    from taipan.server import ServerRuntime

log = logging.getLogger("taipan")

UPDATE_FAILED = "Unable to update TLS configuration. Check server logs."
# A client that connects and never completes the handshake is dropped after this
# (or after ``timeout``, when that is shorter: in Redis such a client is already a
# client that the idle timeout closes).
HANDSHAKE_TIMEOUT = 10.0

_PROTOCOLS = {"tlsv1": ssl.TLSVersion.TLSv1, "tlsv1.1": ssl.TLSVersion.TLSv1_1,
              "tlsv1.2": ssl.TLSVersion.TLSv1_2, "tlsv1.3": ssl.TLSVersion.TLSv1_3}
_VERIFY = {"no": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "yes": ssl.CERT_REQUIRED}


class TlsError(Exception):
    """The configuration can't make a context; the reason is already logged."""


def _fail(message: str) -> TlsError:
    log.warning(message)
    return TlsError(message)


def _parse_protocols(text: str) -> list[ssl.TLSVersion]:
    if not text:
        return [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3]  # Redis's default
    versions = []
    for token in text.split(" "):
        version = _PROTOCOLS.get(token.lower())
        if version is None:
            raise _fail("Invalid tls-protocols specified. Use a combination of 'TLSv1', "
                        "'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.")
        versions.append(version)
    return versions


def _ssl_error(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        return exc.reason or str(exc)
    return getattr(exc, "strerror", None) or str(exc)


class _OpenSSL:
    """The few OpenSSL calls the ``ssl`` module doesn't offer, via ctypes."""

    _SESS_CACHE_MODE, _SESS_CACHE_SIZE = 44, 42  # SSL_CTRL_SET_SESS_CACHE_*
    _CACHE_OFF, _CACHE_SERVER = 0x0, 0x2

    def __init__(self) -> None:
        lib = ctypes.CDLL(ssl._ssl.__file__)  # type: ignore[attr-defined]
        self.ctrl = lib.SSL_CTX_ctrl
        self.ctrl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
        self.ctrl.restype = ctypes.c_long
        self.set_timeout = lib.SSL_CTX_set_timeout
        self.set_timeout.argtypes = [ctypes.c_void_p, ctypes.c_long]
        self.set_id_context = lib.SSL_CTX_set_session_id_context
        self.set_id_context.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint]
        self.set_ciphersuites = lib.SSL_CTX_set_ciphersuites
        self.set_ciphersuites.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        get_options = lib.SSL_CTX_get_options
        get_options.argtypes = [ctypes.c_void_p]
        get_options.restype = ctypes.c_uint64
        # CPython's context object holds its SSL_CTX* right after the object header;
        # checked against the options the ssl module reports before any use.
        probe = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        probe.options |= ssl.OP_NO_TICKET
        if get_options(self.pointer(probe)) != probe.options:
            raise OSError("unexpected SSLContext layout")

    @staticmethod
    def pointer(context: ssl.SSLContext) -> int:
        return ctypes.c_void_p.from_address(id(context) + object.__basicsize__).value or 0

    def session_cache(self, context: ssl.SSLContext, on: bool, size: int, timeout: int) -> None:
        ptr = self.pointer(context)
        if on:
            self.ctrl(ptr, self._SESS_CACHE_MODE, self._CACHE_SERVER, None)
            self.ctrl(ptr, self._SESS_CACHE_SIZE, size, None)
            self.set_timeout(ptr, timeout)
            self.set_id_context(ptr, b"redis", 5)
        else:
            self.ctrl(ptr, self._SESS_CACHE_MODE, self._CACHE_OFF, None)

    def ciphersuites(self, context: ssl.SSLContext, suites: str) -> bool:
        return bool(self.set_ciphersuites(self.pointer(context), suites.encode()))


_openssl: _OpenSSL | None = None
_openssl_checked = False


def _native() -> _OpenSSL | None:
    global _openssl, _openssl_checked
    if not _openssl_checked:
        _openssl_checked = True
        try:
            _openssl = _OpenSSL()
        except (OSError, AttributeError) as exc:
            log.warning("OpenSSL functions unavailable (%s): tls-ciphersuites and the "
                        "tls-session-cache settings are not applied.", exc)
    return _openssl


def _base_context(config: Config, versions: list[ssl.TLSVersion], client: bool
                  ) -> ssl.SSLContext:
    """Redis's createSSLContext: certificate, key, CAs, ciphers, protocols."""
    if client:
        cert, key, password = (config.tls_client_cert_file, config.tls_client_key_file,
                               config.tls_client_key_file_pass)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
    else:
        cert, key, password = config.tls_cert_file, config.tls_key_file, config.tls_key_file_pass
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = min(versions)
    context.maximum_version = max(versions)
    context.options |= ssl.OP_NO_COMPRESSION | getattr(ssl, "OP_NO_RENEGOTIATION", 0)
    context.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE  # unless asked, as OpenSSL
    try:
        # OpenSSL's default list, as Redis uses, not Python's narrower one.
        context.set_ciphers("DEFAULT")
    except ssl.SSLError:
        pass
    try:
        ssl.PEM_cert_to_DER_cert(_read_text(cert))
    except (OSError, ValueError) as exc:
        raise _fail(f"Failed to load certificate: {cert}: {_ssl_error(exc)}") from None
    try:
        # A callback, never None: an encrypted key without a password must fail, not
        # prompt on the server's terminal.
        context.load_cert_chain(cert, key, password=lambda: password or "")
    except (OSError, ssl.SSLError) as exc:
        raise _fail(f"Failed to load private key: {key}: {_ssl_error(exc)}") from None
    cafile, capath = config.tls_ca_cert_file or None, config.tls_ca_cert_dir or None
    if cafile or capath:
        try:
            context.load_verify_locations(cafile, capath)
        except (OSError, ssl.SSLError) as exc:
            raise _fail("Failed to configure CA certificate(s) file/directory: "
                        f"{_ssl_error(exc)}") from None
    if config.tls_ciphers:
        try:
            context.set_ciphers(config.tls_ciphers)
        except ssl.SSLError:
            raise _fail(f"Failed to configure ciphers: {config.tls_ciphers}") from None
    if config.tls_ciphersuites:
        native = _native()
        if native is not None and not native.ciphersuites(context, config.tls_ciphersuites):
            raise _fail(f"Failed to configure ciphersuites: {config.tls_ciphersuites}")
    return context


def _read_text(path: str) -> str:
    with open(path, encoding="ascii", errors="replace") as handle:
        return handle.read()


def build_context(config: Config) -> ssl.SSLContext:
    """Redis's tlsConfigure: the server context, or TlsError (already logged)."""
    if not config.tls_cert_file:
        raise _fail("No tls-cert-file configured!")
    if not config.tls_key_file:
        raise _fail("No tls-key-file configured!")
    if ((config.tls_auth_clients != "no" or config.tls_cluster or config.tls_replication)
            and not config.tls_ca_cert_file and not config.tls_ca_cert_dir):
        raise _fail("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when "
                    "tls-cluster, tls-replication or tls-auth-clients are enabled!")
    versions = _parse_protocols(config.tls_protocols)
    context = _base_context(config, versions, client=False)
    native = _native()
    if native is not None:
        native.session_cache(context, config.tls_session_caching,
                             config.tls_session_cache_size, config.tls_session_cache_timeout)
    if config.tls_prefer_server_ciphers:
        context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    if config.tls_dh_params_file:
        try:
            context.load_dh_params(config.tls_dh_params_file)
        except OSError as exc:
            raise _fail(f"Failed to load {config.tls_dh_params_file}: "
                        f"{exc.strerror}") from None
        except ssl.SSLError:
            raise _fail(f"{config.tls_dh_params_file}: failed to read DH params.") from None
    if config.tls_client_cert_file and config.tls_client_key_file:
        _base_context(config, versions, client=True)  # checked; used by replication only
    context.verify_mode = _VERIFY.get(config.tls_auth_clients, ssl.CERT_REQUIRED)
    return context


# Parameters whose CONFIG SET rebuilds the context (Redis's applyTlsCfg).
RELOAD_PARAMS = (
    "tls-cert-file", "tls-key-file", "tls-key-file-pass", "tls-client-cert-file",
    "tls-client-key-file", "tls-client-key-file-pass", "tls-dh-params-file",
    "tls-ca-cert-file", "tls-ca-cert-dir", "tls-protocols", "tls-ciphers",
    "tls-ciphersuites", "tls-prefer-server-ciphers", "tls-session-caching",
    "tls-session-cache-size", "tls-session-cache-timeout",
)


class TlsState:
    """The current server context; rebuilt whole, or kept, on every change."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.context: ssl.SSLContext | None = None
        self.handshaking = 0  # accepted TLS sockets not yet clients (count for maxclients)

    @property
    def wanted(self) -> bool:
        config = self.config
        return bool(config.tls_port or config.tls_replication or config.tls_cluster)

    def configure(self) -> None:
        """Build a new context and adopt it; ConfigError (Redis's text) if impossible."""
        try:
            self.context = build_context(self.config)
        except TlsError:
            raise ConfigError(UPDATE_FAILED) from None

    def reload(self, old: Any, new: Any) -> None:
        """The applier of every RELOAD_PARAMS parameter."""
        if self.wanted:
            self.configure()

    def auth_clients_changed(self, old: Any, new: Any) -> None:
        # Read per connection in Redis: only the verify mode of new handshakes changes.
        if self.context is not None:
            self.context.verify_mode = _VERIFY.get(new, ssl.CERT_REQUIRED)


def _ssl_protocol_class(loop: asyncio.AbstractEventLoop) -> Any:
    """The loop's own TLS protocol: what its ``create_server(ssl=...)`` wraps each
    accepted socket in, used here so the context is chosen per connection."""
    if type(loop).__module__.startswith("uvloop"):
        import uvloop.loop  # type: ignore[import-not-found]

        return uvloop.loop.SSLProtocol
    from asyncio import sslproto

    return sslproto.SSLProtocol


class _Refused(asyncio.Protocol):
    """A TLS socket turned away before its handshake (maxclients, no context)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.abort()


def tls_protocol_factory(runtime: ServerRuntime) -> Callable[[], asyncio.BaseProtocol]:
    """The protocol factory of a TLS listener: each accepted socket gets the loop's
    TLS protocol with the context current now, wrapping a new ``Connection`` that
    starts (becomes a client) when the handshake is done."""
    from taipan.net.connection import Connection

    tls = runtime.tls
    instance = runtime.instance

    def handshake_done(waiter: asyncio.Future) -> None:
        tls.handshaking -= 1
        if not waiter.cancelled() and waiter.exception() is not None:
            log.warning("Error accepting a client connection: %s",
                        _handshake_error(waiter.exception()))  # type: ignore[arg-type]

    def make() -> asyncio.BaseProtocol:
        config = instance.config
        if tls.context is None or (len(instance.clients) + tls.handshaking
                                   >= config.maxclients):
            # Before any handshake: Redis's -ERR can't be read by a TLS client, and
            # the connection just drops.
            instance.stats.rejected_connections += 1
            return _Refused()
        loop = asyncio.get_running_loop()
        timeout = HANDSHAKE_TIMEOUT
        if config.timeout:
            timeout = min(timeout, float(config.timeout))
        waiter = loop.create_future()
        tls.handshaking += 1
        waiter.add_done_callback(handshake_done)
        return _ssl_protocol_class(loop)(loop, Connection(runtime), tls.context, waiter,
                                         server_side=True, ssl_handshake_timeout=timeout)

    return make


def _handshake_error(exc: BaseException) -> str:
    if isinstance(exc, (TimeoutError, ConnectionAbortedError)) and "longer" in str(exc):
        return "handshake timed out"
    if isinstance(exc, ssl.SSLError):
        return str(exc.reason or exc).lower().replace("_", " ")
    return str(exc) or type(exc).__name__
