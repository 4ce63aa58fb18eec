"""Script flags: the ``#!lua flags=...`` shebang of EVAL scripts and the ``flags``
of registered functions, with Redis's names and error texts."""

from __future__ import annotations

from taipan.errors import ReplyError, err
from taipan.protocol.reader import split_inline

NO_WRITES = "no-writes"
ALLOW_OOM = "allow-oom"
ALLOW_STALE = "allow-stale"
NO_CLUSTER = "no-cluster"
ALLOW_CROSS_SLOT = "allow-cross-slot-keys"
# In the order Redis lists them (FUNCTION LIST shows flags in this order).
SCRIPT_FLAGS = (NO_WRITES, ALLOW_OOM, ALLOW_STALE, NO_CLUSTER, ALLOW_CROSS_SLOT)


class ScriptFlags:
    """What a script declared; ``compat`` for EVAL scripts without a shebang, which
    keep Redis 6's rules (may write, checked command by command)."""

    __slots__ = ("names", "compat")

    def __init__(self, names: frozenset[str] = frozenset(), compat: bool = False) -> None:
        self.names = names
        self.compat = compat

    @property
    def no_writes(self) -> bool:
        return not self.compat and NO_WRITES in self.names

    @property
    def allow_oom(self) -> bool:
        return not self.compat and ALLOW_OOM in self.names

    def ordered(self) -> list[bytes]:
        return [name.encode() for name in SCRIPT_FLAGS if name in self.names]


COMPAT = ScriptFlags(compat=True)


def parse_shebang(body: bytes) -> tuple[ScriptFlags, int]:
    """An EVAL script's flags and the shebang's length (kept out of the compiled
    code, but its line feed stays so line numbers match the source)."""
    if not body.startswith(b"#!"):
        return COMPAT, 0
    end = body.find(b"\n")
    if end < 0:
        raise err("Invalid script shebang")
    try:
        parts = split_inline(body[:end])
    except ReplyError:
        parts = []
    if not parts:
        raise err("Invalid engine in script shebang")
    if parts[0] != b"#!lua":
        raise err(f"Unexpected engine in script shebang: {_text(parts[0])}")
    names: set[str] = set()
    for part in parts[1:]:
        if not part.startswith(b"flags="):
            raise err(f"Unknown lua shebang option: {_text(part)}")
        value = part[6:]
        for flag in value.split(b",") if value else []:
            name = _text(flag)
            if name not in SCRIPT_FLAGS:
                raise err(f"Unexpected flag in script shebang: {name}")
            names.add(name)
    return ScriptFlags(frozenset(names)), end


def _text(value: bytes) -> str:
    return value.decode("utf-8", "surrogateescape")
