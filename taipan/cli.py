"""``taipan-server [config-file] [--directive value ...]``, as redis-server."""

from __future__ import annotations

import asyncio
import os
import sys

from taipan import __version__
from taipan.config import Config, ConfigFileError
from taipan.instance import REDIS_VERSION, Instance
from taipan.server import configure_logging, serve

USAGE = """Usage: taipan-server [/path/to/redis.conf] [options] [-]
       taipan-server - (read config from stdin)
       taipan-server -v or --version
       taipan-server -h or --help

Examples:
       taipan-server (run the server with default conf)
       taipan-server /etc/redis/6379.conf
       taipan-server --port 7777
       taipan-server /etc/myredis.conf --loglevel verbose -
"""


def options_to_config_text(args: list[str]) -> str:
    """``--port 7777 --save ""`` → redis.conf lines, as redis-server does."""
    lines: list[str] = []
    current: list[str] = []
    for arg in args:
        if arg.startswith("--") and len(arg) > 2:
            if current:
                lines.append(" ".join(current))
            current = [arg[2:]]
        else:
            quoted = '""' if arg == "" else (f'"{arg}"' if " " in arg else arg)
            current.append(quoted)
    if current:
        lines.append(" ".join(current))
    return "\n".join(lines)


def build_config(argv: list[str]) -> Config:
    config = Config()
    args = list(argv)
    if args and not args[0].startswith("--") and args[0] != "-":
        config.load_file(args.pop(0))
    if "-" in args:
        args.remove("-")
        config.load_text(sys.stdin.read(), origin="<stdin>")
    config.load_text(options_to_config_text(args), origin="<command line>")
    return config


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-v", "--version"):
        print(f"Taipan server v={__version__} (Redis {REDIS_VERSION} compatible) "
              f"python={sys.version.split()[0]}")
        return 0
    if args and args[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    try:
        config = build_config(args)
    except ConfigFileError as exc:
        sys.stderr.write(exc.report(REDIS_VERSION))
        return 1
    except OSError as exc:
        sys.stderr.write(f"Fatal error, can't open config file '{exc.filename}': {exc.strerror}\n")
        return 1
    configure_logging(config)
    if config.pidfile:
        with open(config.pidfile, "w") as handle:
            handle.write(f"{os.getpid()}\n")
    _install_uvloop()
    instance = Instance(config)
    instance.executable = os.path.abspath(sys.argv[0])
    try:
        asyncio.run(serve(instance))
    except OSError as exc:
        import logging

        logging.getLogger("taipan").warning(str(exc))
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        if config.pidfile and os.path.exists(config.pidfile):
            os.unlink(config.pidfile)
    return 0


def _install_uvloop() -> None:
    if sys.platform == "win32" or os.environ.get("TAIPAN_NO_UVLOOP"):
        return
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


if __name__ == "__main__":
    sys.exit(main())
