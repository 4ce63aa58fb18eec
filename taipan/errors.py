"""The reply-error tree and Redis's exact error texts.

Every error a client can see is a ``ReplyError``; ``dispatch`` is the one place that
turns it into an error reply. The texts are part of the wire interface, so they are
spelled exactly as Redis 7.0 spells them.
"""

from __future__ import annotations


class ReplyError(Exception):
    """An error reply. ``str(err)`` is the full text after the ``-``, prefix included."""

    # True when the error stats already counted it (a script's failed redis.call).
    already_counted = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ProtocolError(ReplyError):
    """Malformed RESP from a client: reply, then close that connection."""

    def __init__(self, detail: str) -> None:
        super().__init__("ERR Protocol error: " + detail)


def err(text: str) -> ReplyError:
    """An ``ERR``-prefixed reply error."""
    return ReplyError("ERR " + text)


WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
SYNTAX = "ERR syntax error"
NO_SUCH_KEY = "ERR no such key"
OVERFLOW = "ERR increment or decrement would overflow"
DB_OUT_OF_RANGE = "ERR DB index is out of range"
NOAUTH = "NOAUTH Authentication required."
# maxmemory reached and nothing left to evict (commands flagged denyoom).
OOM_MESSAGE = "OOM command not allowed when used memory > 'maxmemory'."
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
MAX_CLIENTS = "ERR max number of clients reached"
STRING_TOO_LONG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
EXECABORT = "EXECABORT Transaction discarded because of previous errors."


class WrongType(ReplyError):
    def __init__(self) -> None:
        super().__init__(WRONGTYPE)


class NotInteger(ReplyError):
    def __init__(self) -> None:
        super().__init__(NOT_INTEGER)


class NotFloat(ReplyError):
    def __init__(self) -> None:
        super().__init__(NOT_FLOAT)


class SyntaxErr(ReplyError):
    def __init__(self) -> None:
        super().__init__(SYNTAX)


class NoSuchKey(ReplyError):
    def __init__(self) -> None:
        super().__init__(NO_SUCH_KEY)


def wrong_arity(name: str) -> ReplyError:
    return ReplyError(f"ERR wrong number of arguments for '{name}' command")


def _printable(text: str) -> str:
    # Redis maps CR/LF to spaces so an echoed argument can't break the protocol.
    return text.replace("\r", " ").replace("\n", " ")


def c_string(arg: bytes, limit: int | None = None) -> str:
    """``arg`` as C's ``%s`` (or ``%.<limit>s``) prints it into a Redis error.

    That is: up to the first NUL, at most ``limit`` bytes (even mid UTF-8 sequence),
    other bytes kept raw. Decoded with surrogateescape, which the reply encoder
    reverses, so the client gets exactly Redis's bytes.
    """
    nul = arg.find(b"\0")
    if nul >= 0:
        arg = arg[:nul]
    if limit is not None:
        arg = arg[:limit]
    return arg.decode("utf-8", "surrogateescape")


def unknown_command(argv: list[bytes]) -> ReplyError:
    # Redis: "'%.*s' " per argument while the list is under 128 bytes, each cut to
    # what is left of the 128; then "unknown command '%.128s', ...".
    args = b""
    for arg in argv[1:]:
        if len(args) >= 128:
            break
        nul = arg.find(b"\0")
        args += b"'" + (arg if nul < 0 else arg[:nul])[: 128 - len(args)] + b"' "
    name = c_string(argv[0], 128)
    return ReplyError(_printable(
        f"ERR unknown command '{name}', with args beginning with: "
        + args.decode("utf-8", "surrogateescape")
    ))


def unknown_subcommand(parent: str, sub: bytes) -> ReplyError:
    text = c_string(sub, 128)
    return ReplyError(
        _printable(f"ERR unknown subcommand '{text}'. Try {parent.upper()} HELP.")
    )
