"""Value types and what TYPE / OBJECT ENCODING say about them.

Strings are ``bytes`` (or ``bytearray`` after in-place edits). Collection types
declare ``TYPE_NAME`` and an ``encoding()`` method.
"""

from __future__ import annotations

import re
from typing import Any

_INT_ENCODABLE = re.compile(rb"(?:0|-?[1-9][0-9]{0,18})\Z")
EMBSTR_LIMIT = 44  # Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT


def type_name(value: Any) -> str:
    # Exact types: a packed collection (``types/packed_types.py``) is a bytes subclass.
    if type(value) is bytes or type(value) is bytearray:
        return "string"
    return value.TYPE_NAME


def encoding_name(value: Any, config: Any) -> str:
    if type(value) is bytes:
        if len(value) <= 20 and _INT_ENCODABLE.match(value):
            if -(2**63) <= int(value) < 2**63:
                return "int"
        return "embstr" if len(value) <= EMBSTR_LIMIT else "raw"
    if type(value) is bytearray:
        return "raw"
    return value.encoding(config)


def copy_value(value: Any) -> Any:
    """An independent copy (COPY): strings are immutable except bytearrays."""
    if type(value) is bytes:
        return value
    if type(value) is bytearray:
        return bytearray(value)
    return value.copy()
