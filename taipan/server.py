"""Running an ``Instance`` on an asyncio event loop: listeners, cron, shutdown."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import signal
import socket
import sys
import time

from taipan import __version__, hot_path
from taipan.config import Config, ConfigError
from taipan.dispatch import Dispatcher
from taipan.durability import Durability
from taipan.instance import REDIS_VERSION, Instance
from taipan.keyspace.expiry import active_expire_cycle
from taipan.net import blocking
from taipan.net.busy_scripts import BusyService
from taipan.net.connection import VERBOSE, Connection
from taipan.net.output import OutputWriter
from taipan.net.tls import RELOAD_PARAMS, TlsState, tls_protocol_factory
from taipan.observability.histograms import FOLD_AT, fold_all

log = logging.getLogger("taipan")
logging.addLevelName(VERBOSE, "VERBOSE")


class RedisStyleFormatter(logging.Formatter):
    """``pid:M 25 Nov 2026 11:31:17.123 * message``, as redis-server logs."""

    _LEVEL_MARKS = {logging.DEBUG: ".", VERBOSE: "-", logging.INFO: "*",
                    logging.WARNING: "#", logging.ERROR: "#", logging.CRITICAL: "#"}

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "signal_handler", False):
            return f"{os.getpid()}:signal-handler ({int(record.created)}) {record.getMessage()}"
        stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(record.created))
        millis = int(record.msecs)
        mark = self._LEVEL_MARKS.get(record.levelno, "*")
        role = getattr(record, "role", "M")
        text = f"{os.getpid()}:{role} {stamp}.{millis:03d} {mark} {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


LOG_LEVELS = {"debug": logging.DEBUG, "verbose": VERBOSE, "notice": logging.INFO,
              "warning": logging.WARNING}


def configure_logging(config: Config) -> None:
    handler: logging.Handler
    if config.logfile:
        handler = logging.FileHandler(config.logfile)
    else:
        handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(RedisStyleFormatter())
    log.handlers[:] = [handler]
    log.setLevel(LOG_LEVELS.get(config.loglevel, logging.INFO))
    log.propagate = False


class BindError(OSError):
    """A listening socket could not be created; the text is Redis's warning."""


class NowhereToListen(OSError):
    """Neither a TCP address nor a unix socket is configured."""


class TlsStartupError(NowhereToListen):
    """TLS can't be configured, or its port can't be listened on, at startup: the
    server exits after logging this text (the details are logged before it)."""


# Errors an optional ('-' prefixed) bind address may fail with and be skipped.
_OPTIONAL_BIND_ERRORS = {errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT,
                         getattr(errno, "ESOCKTNOSUPPORT", errno.EPROTONOSUPPORT)}


def _warn_unsupported(config: Config) -> None:
    """Directives for features Taipan doesn't have yet are accepted (a redis.conf
    keeps loading) but said to be ignored, rather than silently doing nothing."""
    if config.replicaof:
        log.warning("replicaof is set, but Taipan has no replication yet: the directive "
                    "is ignored and this server runs as a master.")
    if config.cluster_enabled:
        log.warning("cluster-enabled is set, but Taipan has no cluster mode yet: the "
                    "directive is ignored and this server runs standalone.")


def bind_tcp(bind: str, port: int, backlog: int) -> list[socket.socket]:
    """Listening sockets for every ``bind`` address (``-addr``: skip if unavailable).

    Synchronous on purpose: CONFIG SET port/bind must know at once whether it worked.
    Port 0 picks a free port, shared by every address.
    """
    sockets: list[socket.socket] = []
    try:
        for entry in bind.split():  # no address: no TCP listener, as Redis
            optional = entry.startswith("-")
            host = entry[1:] if optional else entry
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            host = {"*": "0.0.0.0", "::*": "::"}.get(host, host)
            try:
                sock = socket.socket(family, socket.SOCK_STREAM)
            except OSError as exc:
                if optional:
                    continue
                raise BindError(f"Could not create server TCP listening socket {entry}:{port}: "
                                f"{exc.strerror}") from exc
            try:
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                if os.name != "nt":
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((host, port))
                sock.listen(backlog)
                sock.setblocking(False)
            except OSError as exc:
                sock.close()
                if optional and exc.errno in _OPTIONAL_BIND_ERRORS:
                    continue
                raise BindError(f"Could not create server TCP listening socket {host}:{port}: "
                                f"bind: {exc.strerror}") from exc
            sockets.append(sock)
            if port == 0:
                port = sock.getsockname()[1]
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class ServerRuntime:
    """Owns the listeners and periodic jobs of one Instance on the running loop."""

    def __init__(self, instance: Instance, prefer_hiredis: bool = True,
                 ephemeral_port: bool = False, owns_process: bool = False,
                 load_snapshot: bool | None = None, ephemeral_tls_port: bool = False) -> None:
        self.instance = instance
        self.dispatcher = Dispatcher(instance)
        # Other clients are served while a script is busy (SCRIPT KILL, -BUSY).
        self.busy_service = BusyService(self)
        instance.scripting.host.serve_while_busy = self.busy_service.serve
        instance.on_busy_end = self.busy_service.script_ended
        # Writes every client's queued output once per loop turn, after the AOF
        # (with appendfsync always: one fsync per turn for all clients).
        self.output_writer = OutputWriter(instance)
        self.prefer_hiredis: bool = prefer_hiredis
        # Port 0 means "any free port" (embedding) rather than Redis's "no TCP".
        self.ephemeral_port = ephemeral_port
        # A server run by the CLI may change the process's working directory (``dir``);
        # an embedded one must not touch its host's.
        self.owns_process = owns_process
        self.tcp_servers: list[asyncio.AbstractServer] = []
        self.unix_server: asyncio.AbstractServer | None = None
        self.bound_port = instance.config.port
        # TLS (net/tls.py): its own listeners beside the plain ones, on ``tls-port``.
        self.tls = TlsState(instance.config)
        self.tls_servers: list[asyncio.AbstractServer] = []
        self.bound_tls_port = instance.config.tls_port
        self.ephemeral_tls_port = ephemeral_tls_port
        self._cron_task: asyncio.Task | None = None
        self._stopped = asyncio.Event()
        instance.shutdown_requested = self.request_shutdown
        self.durability = Durability(
            instance, owns_process,
            owns_process if load_snapshot is None else load_snapshot,
            self._close_listeners_in_child)
        instance.unblock_client = lambda client, with_error: blocking.unblock(
            self, client, with_error)
        appliers = instance.config.appliers
        appliers["port"] = self._apply_port
        appliers["bind"] = self._apply_bind
        appliers["tls-port"] = self._apply_tls_port
        appliers["tls-auth-clients"] = self.tls.auth_clients_changed
        for name in RELOAD_PARAMS:
            appliers[name] = self.tls.reload
        appliers["loglevel"] = lambda old, new: log.setLevel(LOG_LEVELS[new])
        if owns_process:
            appliers["dir"] = lambda old, new: self._change_dir(new)

    def _change_dir(self, path: str) -> None:
        """Redis works inside ``dir``; CONFIG GET dir then shows the absolute path."""
        try:
            os.chdir(path)
        except OSError as exc:
            raise ConfigError(exc.strerror or str(exc)) from None
        self.instance.config.dir = os.getcwd()

    @property
    def servers(self) -> list[asyncio.AbstractServer]:
        """The plain listeners (those a busy script's stand-in loop accepts on)."""
        return self.tcp_servers + ([self.unix_server] if self.unix_server else [])

    @property
    def all_servers(self) -> list[asyncio.AbstractServer]:
        return self.servers + self.tls_servers


    def _connection(self) -> Connection:
        return Connection(self)

    def new_connection(self) -> Connection:
        """A connection for a socket accepted outside the event loop."""
        return Connection(self)

    async def start(self) -> None:
        """Listen, load the dataset (answering -LOADING meanwhile), start the cron."""
        config = self.instance.config
        self.output_writer.loop = asyncio.get_running_loop()
        if config.dir and self.owns_process:
            self._change_dir(config.dir)
        if self.tls.wanted or self.ephemeral_tls_port:
            try:
                self.tls.configure()
            except ConfigError:
                raise TlsStartupError("Failed to configure TLS. Check logs for more info.") \
                    from None
        if config.port or self.ephemeral_port:
            await self._serve_tcp(bind_tcp(config.bind, config.port, config.tcp_backlog))
        if config.tls_port or self.ephemeral_tls_port:
            try:
                sockets = bind_tcp(config.bind, config.tls_port, config.tcp_backlog)
            except BindError as exc:
                log.warning(f"Warning: {exc}")
                raise TlsStartupError(f"Failed listening on port {config.tls_port} (TLS), "
                                      "aborting.") from None
            await self._serve_tls(sockets)
        if config.unixsocket:
            if os.path.exists(config.unixsocket):
                os.unlink(config.unixsocket)
            loop = asyncio.get_running_loop()
            self.unix_server = await loop.create_unix_server(self._connection, config.unixsocket)
            if config.unixsocketperm:
                os.chmod(config.unixsocket, config.unixsocketperm)
        if not self.all_servers:
            raise NowhereToListen("Configured to not listen anywhere, exiting.")
        self.instance.tcp_port = self.bound_port or self.bound_tls_port
        _warn_unsupported(config)
        log.info("Server initialized")
        await self.durability.load_dataset(self._stopped)
        self._cron_task = asyncio.get_running_loop().create_task(self._cron())
        log.info("Ready to accept connections")

    def _close_listeners_in_child(self) -> None:
        """A forked BGSAVE child must not hold the listening sockets open."""
        for server in self.all_servers:
            for sock in server.sockets or ():
                try:
                    os.close(sock.fileno())
                except OSError:
                    pass

    async def _serve_tcp(self, sockets: list[socket.socket]) -> None:
        loop = asyncio.get_running_loop()
        for sock in sockets:
            server = await loop.create_server(self._connection, sock=sock)
            self.tcp_servers.append(server)
        if sockets:
            self.bound_port = sockets[0].getsockname()[1]
            self.instance.tcp_port = self.bound_port
            if self.ephemeral_port:
                self.instance.config.port = self.bound_port

    async def _serve_tls(self, sockets: list[socket.socket]) -> None:
        loop = asyncio.get_running_loop()
        for sock in sockets:
            server = await loop.create_server(tls_protocol_factory(self), sock=sock)
            self.tls_servers.append(server)
        if sockets:
            self.bound_tls_port = sockets[0].getsockname()[1]
            if self.ephemeral_tls_port:
                self.instance.config.tls_port = self.bound_tls_port
            self.instance.tcp_port = self.bound_port or self.bound_tls_port

    def _rebind(self, bind: str, port: int | None, tls_port: int | None, failure: str) -> None:
        """CONFIG SET port/tls-port/bind: listen on the new addresses, then close the
        old ones (``None``: that kind of listener stays as it is). All or nothing."""
        config = self.instance.config
        plain: list[socket.socket] = []
        secure: list[socket.socket] = []
        try:
            if port:
                plain = bind_tcp(bind, port, config.tcp_backlog)
            if tls_port:
                secure = bind_tcp(bind, tls_port, config.tcp_backlog)
        except BindError as exc:
            for sock in plain:
                sock.close()
            log.warning(str(exc))
            raise ConfigError(failure) from None
        loop = asyncio.get_running_loop()
        if port is not None:
            for server in self.tcp_servers:
                server.close()
            self.tcp_servers = []
            self.bound_port = port
            if plain:
                loop.create_task(self._serve_tcp(plain))
        if tls_port is not None:
            for server in self.tls_servers:
                server.close()
            self.tls_servers = []
            self.bound_tls_port = tls_port
            if secure:
                loop.create_task(self._serve_tls(secure))
        self.instance.tcp_port = self.bound_port or self.bound_tls_port

    def _apply_port(self, old: int, new: int) -> None:
        self._rebind(self.instance.config.bind, new, None,
                     "Unable to listen on this port. Check server logs.")

    def _apply_tls_port(self, old: int, new: int) -> None:
        if self.tls.context is None:
            self.tls.configure()  # Redis's applyTLSPort: configure TLS if it wasn't
        self._rebind(self.instance.config.bind, None, new,
                     "Unable to listen on this port. Check server logs.")

    def _apply_bind(self, old: str, new: str) -> None:
        config = self.instance.config
        self._rebind(new, config.port, config.tls_port, "Failed to bind to specified addresses.")

    def request_shutdown(self) -> None:
        self._stopped.set()

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    async def stop(self) -> None:
        """Close listeners and every client connection."""
        if self._cron_task is not None:
            self._cron_task.cancel()
        servers = self.all_servers
        for server in servers:
            server.close()
        # Replies of the turn that asked for the shutdown (AUTH before SHUTDOWN in one
        # packet) still go out; what a client hasn't read by now is dropped.
        self.output_writer.flush()
        for client in list(self.instance.clients.values()):
            if client.transport is not None:
                client.transport.abort()
        for server in servers:
            try:
                await asyncio.wait_for(server.wait_closed(), 1.0)
            except (TimeoutError, Exception):
                pass
        self.tcp_servers, self.tls_servers, self.unix_server = [], [], None
        self.durability.stop()
        unixsocket = self.instance.config.unixsocket
        if unixsocket and os.path.exists(unixsocket):
            log.info("Removing the unix socket file.")
            os.unlink(unixsocket)

    async def _cron(self) -> None:
        """Periodic work at ``hz``: active expiry, idle timeouts, ops samples."""
        instance = self.instance
        last_second = 0.0
        while True:
            hz = max(1, min(instance.config.hz or 10, 500))
            await asyncio.sleep(1.0 / hz)
            try:
                # (expiry deletes keys, so any pause holds it; asking is_paused_for also
                # ends a pause that ran out while no request came to notice)
                if instance.active_expire_enabled and not instance.is_paused_for(True):
                    started = time.perf_counter_ns()
                    active_expire_cycle(instance.databases, 1000.0 / hz)
                    instance.latency.add_if_needed(
                        "expire-cycle", (time.perf_counter_ns() - started) // 1_000_000)
                    if instance.blocking.ready:
                        # (an expired stream fails its blocked XREADGROUP readers)
                        blocking.serve_ready(self)
                now = time.monotonic()
                if now - last_second >= 1.0:
                    last_second = now
                    self._close_idle_clients()
                instance.sample_ops()
                instance.memory_cron()
                # Bounded memory for latency-tracking's not yet counted durations.
                fold_all((item for command in instance.table
                          for item in (command, *command.subcommands.values())), FOLD_AT)
                self.durability.cron()
            except Exception:  # the cron must survive its own bugs
                log.exception("error in server cron")

    def _close_idle_clients(self) -> None:
        timeout = self.instance.config.timeout
        if not timeout:
            return
        now = time.time()
        for client in list(self.instance.clients.values()):
            if (now - client.last_interaction > timeout and client.transport is not None
                    and not client.exempt_from_timeout()):
                log.log(VERBOSE, "Closing idle client")
                client.transport.close()


def startup_banner() -> list[str]:
    return [
        "oO0OoO0OoO0Oo Taipan is starting oO0OoO0OoO0Oo",
        f"Taipan version={__version__} (Redis {REDIS_VERSION} compatible), "
        f"bits={64 if sys.maxsize > 2**32 else 32}, build={hot_path.build_kind()}, "
        f"pid={os.getpid()}, just started",
    ]


async def serve(instance: Instance, install_signal_handlers: bool = True) -> None:
    """Run until SHUTDOWN or SIGINT/SIGTERM; BindError when a listener fails."""
    runtime = ServerRuntime(instance, owns_process=True)
    log.info(f"Running mode=standalone, port={instance.config.port}.")
    loop = asyncio.get_running_loop()
    if install_signal_handlers and sys.platform != "win32":
        # Before loading, so SIGTERM during a long load shuts down cleanly.
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, _on_signal, runtime, signum)
    await runtime.start()
    await runtime.wait_stopped()
    await runtime.stop()
    log.warning("Taipan is now ready to exit, bye bye...")


def _on_signal(runtime: ServerRuntime, signum: int) -> None:
    name = "SIGINT" if signum == signal.SIGINT else "SIGTERM"
    log.warning(f"Received {name} scheduling shutdown...", extra={"signal_handler": True})
    config = runtime.instance.config
    setting = config.shutdown_on_sigint if signum == signal.SIGINT else config.shutdown_on_sigterm
    save = {"save": True, "nosave": False}.get(setting)
    if runtime.instance.prepare_shutdown(save):
        runtime.request_shutdown()
    else:
        log.warning(f"{name} received but errors trying to shut down the server, check the "
                    "logs for more information")
