"""Running an ``Instance`` on an asyncio event loop: listeners, cron, shutdown."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time

from taipan.config import Config
from taipan.dispatch import Dispatcher
from taipan.instance import REDIS_VERSION, Instance
from taipan.keyspace.expiry import active_expire_cycle
from taipan.net.connection import Connection

log = logging.getLogger("taipan")


class RedisStyleFormatter(logging.Formatter):
    """``pid:M 25 Nov 2026 11:31:17.123 * message``, as redis-server logs."""

    _LEVEL_MARKS = {logging.DEBUG: ".", logging.INFO: "*", logging.WARNING: "#",
                    logging.ERROR: "#", logging.CRITICAL: "#"}

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(record.created))
        millis = int(record.msecs)
        mark = self._LEVEL_MARKS.get(record.levelno, "*")
        text = f"{os.getpid()}:M {stamp}.{millis:03d} {mark} {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


_LOG_LEVELS = {"debug": logging.DEBUG, "verbose": logging.INFO, "notice": logging.INFO,
               "warning": logging.WARNING, "nothing": logging.CRITICAL + 10}


def configure_logging(config: Config) -> None:
    handler: logging.Handler
    if config.logfile:
        handler = logging.FileHandler(config.logfile)
    else:
        handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(RedisStyleFormatter())
    log.handlers[:] = [handler]
    log.setLevel(_LOG_LEVELS.get(config.loglevel, logging.INFO))
    log.propagate = False


class ServerRuntime:
    """Owns the listeners and periodic jobs of one Instance on the running loop."""

    def __init__(self, instance: Instance, prefer_hiredis: bool = True) -> None:
        self.instance = instance
        self.dispatcher = Dispatcher(instance)
        self.prefer_hiredis = prefer_hiredis
        self.servers: list[asyncio.AbstractServer] = []
        self.bound_port = instance.config.port
        self._cron_task: asyncio.Task | None = None
        self._stopped = asyncio.Event()
        self.save_on_shutdown: bool | None = None
        instance.shutdown_requested = self.request_shutdown

    async def start(self) -> None:
        config = self.instance.config
        loop = asyncio.get_running_loop()
        if config.dir:
            os.chdir(config.dir)
        hosts = [h for h in config.bind.split() if not h.startswith("-")] or ["127.0.0.1"]
        optional = {h[1:] for h in config.bind.split() if h.startswith("-")}
        if config.port:
            for host in hosts + sorted(optional):
                bind_host = None if host == "*" else host
                family = socket.AF_INET if host == "*" else 0
                try:
                    server = await loop.create_server(
                        lambda: Connection(self), bind_host, self.bound_port or config.port,
                        family=family, backlog=config.tcp_backlog, reuse_address=True,
                    )
                except OSError as exc:
                    if host in optional:
                        continue
                    raise OSError(f"Could not create server TCP listening socket {host}:{config.port}: {exc.strerror}") from exc
                self.servers.append(server)
                if not self.bound_port or self.bound_port == 0:
                    self.bound_port = server.sockets[0].getsockname()[1]
                self.bound_port = server.sockets[0].getsockname()[1]
        if config.unixsocket:
            if os.path.exists(config.unixsocket):
                os.unlink(config.unixsocket)
            server = await loop.create_unix_server(lambda: Connection(self), config.unixsocket)
            if config.unixsocketperm:
                os.chmod(config.unixsocket, config.unixsocketperm)
            self.servers.append(server)
        self.instance.tcp_port = self.bound_port
        self._cron_task = loop.create_task(self._cron())
        log.info("Server initialized")
        if config.port:
            log.info("Ready to accept connections tcp")
        if config.unixsocket:
            log.info("Ready to accept connections unix")

    def request_shutdown(self, save: bool | None = None) -> None:
        self.save_on_shutdown = save
        self._stopped.set()

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    async def stop(self) -> None:
        log.info("User requested shutdown...")
        if self._cron_task is not None:
            self._cron_task.cancel()
        for server in self.servers:
            server.close()
        for client in list(self.instance.clients.values()):
            if client.transport is not None:
                client.transport.abort()
        for server in self.servers:
            try:
                await asyncio.wait_for(server.wait_closed(), 1.0)
            except (TimeoutError, Exception):
                pass
        if self.instance.config.unixsocket and os.path.exists(self.instance.config.unixsocket):
            os.unlink(self.instance.config.unixsocket)
        log.info("Taipan is now ready to exit, bye bye...")

    async def _cron(self) -> None:
        """Periodic work at ``hz``: active expiry, idle timeouts."""
        instance = self.instance
        last_second = 0.0
        while True:
            hz = max(1, min(instance.config.hz or 10, 500))
            await asyncio.sleep(1.0 / hz)
            try:
                if instance.active_expire_enabled:
                    active_expire_cycle(instance.databases, 1000.0 / hz)
                now = time.monotonic()
                if now - last_second >= 1.0:
                    last_second = now
                    self._close_idle_clients()
                instance.sample_ops()
            except Exception:  # the cron must survive its own bugs
                log.exception("error in server cron")

    def _close_idle_clients(self) -> None:
        timeout = self.instance.config.timeout
        if not timeout:
            return
        now = time.time()
        for client in list(self.instance.clients.values()):
            if now - client.last_interaction > timeout and client.transport is not None:
                client.transport.close()


def banner(instance: Instance, port: int) -> str:
    return (
        f"Taipan {instance.version} (Redis {REDIS_VERSION} compatible) "
        f"64 bit, pid={os.getpid()}, port={port}"
    )


async def serve(instance: Instance, install_signal_handlers: bool = True) -> None:
    """Run until SHUTDOWN or SIGINT/SIGTERM."""
    runtime = ServerRuntime(instance)
    log.info("oO0OoO0OoO0Oo Taipan is starting oO0OoO0OoO0Oo")
    log.info(banner(instance, instance.config.port))
    await runtime.start()
    loop = asyncio.get_running_loop()
    if install_signal_handlers and sys.platform != "win32":
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, _on_signal, runtime, signum)
    await runtime.wait_stopped()
    await runtime.stop()


def _on_signal(runtime: ServerRuntime, signum: int) -> None:
    name = "SIGINT" if signum == signal.SIGINT else "SIGTERM"
    log.warning(f"Received {name} scheduling shutdown...")
    runtime.request_shutdown(None)
