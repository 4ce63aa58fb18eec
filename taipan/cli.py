"""``taipan-server [config-file] [--directive value ...] [-]``, as redis-server."""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from taipan import __version__
from taipan.config import Config, ConfigFileError
from taipan.config_values import quote_value
from taipan.instance import REDIS_VERSION, AclStartupError, Instance
from taipan.server import (
    BindError,
    NowhereToListen,
    configure_logging,
    log,
    serve,
    startup_banner,
)

USAGE = """Usage: ./taipan-server [/path/to/redis.conf] [options] [-]
       ./taipan-server - (read config from stdin)
       ./taipan-server -v or --version
       ./taipan-server -h or --help

Examples:
       ./taipan-server (run the server with default conf)
       echo 'maxmemory 128mb' | ./taipan-server -
       ./taipan-server /etc/redis/6379.conf
       ./taipan-server --port 7777
       ./taipan-server --port 7777 --replicaof 127.0.0.1 8888
       ./taipan-server /etc/myredis.conf --loglevel verbose -
       ./taipan-server /etc/myredis.conf --loglevel verbose
"""

DEFAULT_DAEMON_PIDFILE = "/var/run/taipan.pid"


def options_to_config_text(args: list[str]) -> tuple[str, bool]:
    """Command-line options → redis.conf lines, as redis-server builds them.

    ``--port 7777 --save ""`` becomes ``port "7777" \\nsave "" ``: each ``--name``
    starts a line, each other argument is appended quoted. Returns the text and
    whether ``-`` asked for the configuration on stdin.
    """
    text = ""
    from_stdin = False
    last_had_value = True  # a "--name" alone waits for its value, even if it starts "--"
    for index, arg in enumerate(args):
        is_last = index == len(args) - 1
        if arg == "-" and (index == 0 or is_last):
            from_stdin = True
        elif last_had_value and arg.startswith("--"):
            if text:
                text += "\n"
            text += arg[2:] + " "
            last_had_value = len(arg[2:].split()) > 1
            if not last_had_value and arg.lower() == "--save" and (
                    is_last or args[index + 1].startswith("--")):
                text += '""'  # "--save" with no value means no save points
                last_had_value = True
        else:
            text += quote_value(arg) + " "
            last_had_value = True
    return text, from_stdin


def build_config(argv: list[str]) -> Config:
    """The configuration from a file, stdin and options (OSError, ConfigFileError)."""
    config = Config()
    args = list(argv)
    text = ""
    if args and not args[0].startswith("-"):
        path = args.pop(0)
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            text = handle.read()
        config.config_file = os.path.abspath(path)
    options, from_stdin = options_to_config_text(args)
    if from_stdin:
        text += sys.stdin.read()
    if options:
        text += "\n" + options
    config.load_text(text, origin=config.config_file or "<command line>")
    return config


def _early_log(message: str, warning: bool = True) -> None:
    """Lines logged before the configuration is known (role ``C``, to stdout)."""
    record = logging.LogRecord("taipan", logging.WARNING if warning else logging.INFO,
                               __file__, 0, message, None, None)
    record.role = "C"
    from taipan.server import RedisStyleFormatter

    sys.stdout.write(RedisStyleFormatter().format(record) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-v", "--version"):
        print(f"Taipan server v={__version__} redis_version={REDIS_VERSION} "
              f"bits={64 if sys.maxsize > 2**32 else 32} python={sys.version.split()[0]}")
        return 0
    if args and args[0] in ("-h", "--help"):
        sys.stderr.write(USAGE)
        return 1
    try:
        config = build_config(args)
    except ConfigFileError as exc:
        sys.stderr.write(exc.report(REDIS_VERSION))
        return 1
    except OSError as exc:
        _early_log(f"Fatal error, can't open config file '{exc.filename}': {exc.strerror}")
        return 1
    if config.daemonize and sys.platform != "win32":
        _daemonize(config)
    configure_logging(config)
    for line in startup_banner_lines(config):
        log.warning(line, extra={"role": "C"})
    return _run(config)


def startup_banner_lines(config: Config) -> list[str]:
    lines = startup_banner()
    if config.config_file:
        lines.append("Configuration loaded")
    else:
        lines.append("Warning: no config file specified, using the default config. In order "
                     "to specify a config file use taipan-server /path/to/redis.conf")
    return lines


def adjust_open_files_limit(config: Config) -> None:
    """Raise the descriptor limit to maxclients + 32, or lower maxclients, as Redis."""
    try:
        import resource
    except ImportError:  # Windows
        return
    needed = config.maxclients + 32
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    except (ValueError, OSError):
        pass
    if soft < needed:
        config.maxclients = max(soft - 32, 1)
        log.warning(f"You requested maxclients of {needed - 32} requiring at least {needed} "
                    f"max file descriptors.")
        log.warning(f"Server can't set maximum open files to {needed} because of OS error: "
                    f"Operation not permitted.")
        log.warning(f"Current maximum open files is {soft}. maxclients has been reduced to "
                    f"{config.maxclients} to compensate for low ulimit. If you need higher "
                    f"maxclients increase 'ulimit -n'.")


def _run(config: Config) -> int:
    adjust_open_files_limit(config)
    pidfile = config.pidfile
    if pidfile:
        try:
            with open(pidfile, "w") as handle:
                handle.write(f"{os.getpid()}\n")
        except OSError as exc:
            log.warning(f"Failed to write PID file: {exc.strerror}")
            pidfile = ""
    _install_uvloop()
    try:
        instance = Instance(config)
        instance.load_acl_at_start()
        instance.executable = os.path.abspath(sys.argv[0])
        asyncio.run(serve(instance))
    except BindError as exc:
        log.warning(f"Warning: {exc}")
        log.warning(f"Failed listening on port {config.port} (tcp), aborting.")
        return 1
    except (NowhereToListen, AclStartupError) as exc:
        log.warning(str(exc))
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        if pidfile and os.path.exists(pidfile):
            log.info("Removing the pid file.")
            os.unlink(pidfile)
    return 0


def _daemonize(config: Config) -> None:
    """Fork into the background, as redis-server's ``daemonize yes`` does."""
    if os.fork() > 0:
        os._exit(0)  # the parent returns to the shell at once
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    if devnull > 2:
        os.close(devnull)
    if not config.pidfile:
        config.pidfile = DEFAULT_DAEMON_PIDFILE


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
