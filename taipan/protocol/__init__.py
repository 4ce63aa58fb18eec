"""Sans-IO RESP: request readers and reply encoding."""

from __future__ import annotations

from taipan.protocol.reader import PyRequestReader, RequestReader


def make_reader(max_bulk_len: int, prefer_hiredis: bool = True) -> RequestReader:
    """The fastest available reader; both kinds accept exactly the same input."""
    if prefer_hiredis:
        try:
            from taipan.protocol.hiredis_reader import HiredisRequestReader
        except ImportError:  # hiredis is optional at run time
            pass
        else:
            return HiredisRequestReader(max_bulk_len)
    return PyRequestReader(max_bulk_len)


__all__ = ["make_reader", "PyRequestReader", "RequestReader"]
