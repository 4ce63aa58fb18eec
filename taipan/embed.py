"""Embedding: run a real Taipan server inside a Python process.

    with taipan.Server(port=0) as srv:
        r = redis.Redis.from_url(srv.url)

``Server`` runs the event loop on a background thread; ``AsyncServer`` runs on the
caller's loop (``async with taipan.AsyncServer() as srv: ...``).

Options are redis.conf parameters with underscores (``maxmemory="64mb"``), validated
as a configuration file would be. Port 0 picks a free port. Unlike redis-server, an
embedded server has no save points unless given (``save="3600 1"``), loads
``dump.rdb`` at start only when given a ``dir``, and never changes its host
process's working directory.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from taipan.config import Config
from taipan.instance import Instance
from taipan.server import ServerRuntime


def _make_config(options: dict[str, Any]) -> Config:
    config = Config()
    for name, value in options.items():
        config.set_value(name.replace("_", "-"), value)
    return config


class AsyncServer:
    """A Taipan server on the running asyncio loop."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1", tls: bool = False,
                 **options: Any) -> None:
        self.config = _make_config({"port": port, "bind": host, "save": "", **options})
        # ``tls=True``: also listen with TLS (the tls_* options), on a free port unless
        # ``tls_port`` names one.
        self._ephemeral_tls = tls and not self.config.tls_port
        self.instance = Instance(self.config)
        self.instance.load_acl_at_start()
        self.runtime: ServerRuntime | None = None
        self.host = host
        self._ephemeral = port == 0
        self._load_snapshot = "dir" in options

    @property
    def port(self) -> int:
        """The TCP port the server listens on (the one chosen when 0 was asked)."""
        return self.config.port

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def tls_port(self) -> int:
        """The TLS port (0: no TLS listener)."""
        return self.config.tls_port

    @property
    def tls_url(self) -> str:
        return f"rediss://{self.host}:{self.tls_port}/0"

    async def start(self) -> AsyncServer:
        self.runtime = ServerRuntime(self.instance, ephemeral_port=self._ephemeral,
                                     load_snapshot=self._load_snapshot,
                                     ephemeral_tls_port=self._ephemeral_tls)
        await self.runtime.start()
        return self

    async def stop(self) -> None:
        if self.runtime is not None:
            await self.runtime.stop()
            self.runtime = None

    async def __aenter__(self) -> AsyncServer:
        return await self.start()

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.stop()


class Server:
    """A Taipan server on a background thread with its own event loop."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1", tls: bool = False,
                 **options: Any) -> None:
        self._async = AsyncServer(port=port, host=host, tls=tls, **options)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stopped: asyncio.Event | None = None

    @property
    def instance(self) -> Instance:
        return self._async.instance

    @property
    def port(self) -> int:
        return self._async.port

    @property
    def host(self) -> str:
        return self._async.host

    @property
    def url(self) -> str:
        return self._async.url

    @property
    def tls_port(self) -> int:
        return self._async.tls_port

    @property
    def tls_url(self) -> str:
        return self._async.tls_url

    def start(self) -> Server:
        self._thread = threading.Thread(target=self._run, name="taipan-server", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stopped = asyncio.Event()
        await self._async.start()
        runtime = self._async.runtime
        assert runtime is not None
        self._ready.set()
        stop_waiter = asyncio.ensure_future(self._stopped.wait())
        shutdown_waiter = asyncio.ensure_future(runtime.wait_stopped())
        await asyncio.wait({stop_waiter, shutdown_waiter}, return_when=asyncio.FIRST_COMPLETED)
        stop_waiter.cancel()
        shutdown_waiter.cancel()
        await self._async.stop()

    def stop(self) -> None:
        loop, stopped = self._loop, self._stopped
        if loop is not None and stopped is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stopped.set)
            except RuntimeError:
                pass  # the loop already finished (SHUTDOWN)
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()
