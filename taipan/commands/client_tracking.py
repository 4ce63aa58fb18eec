"""CLIENT TRACKING, CACHING, GETREDIR, TRACKINGINFO: client-side caching's commands.

The table and the invalidations live in ``taipan/messaging/tracking.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taipan.commands.args import to_int
from taipan.commands.client_cmd import commands
from taipan.errors import ReplyError, SyntaxErr, c_string, err
from taipan.protocol.reply import OK, Frames, SetReply

if TYPE_CHECKING:
    from taipan.net.client import Client

_NOT_TRACKING = err("CLIENT CACHING can be called only when the client is in tracking "
                    "mode with OPTIN or OPTOUT mode enabled")


@commands.command("CLIENT TRACKING", arity=-3, flags="noscript loading stale",
                  summary="Enable or disable server assisted client side caching support",
                  since="6.0.0",
                  complexity="O(1). Some options may introduce additional complexity.")
def client_tracking(ctx: Client, argv: list[bytes]) -> Any:
    """CLIENT TRACKING ON|OFF [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]]
    [BCAST] [OPTIN] [OPTOUT] [NOLOOP]"""
    redirect = 0
    bcast = optin = optout = noloop = False
    prefixes: list[bytes] = []
    # Every option is read (and a bad one refused) before ON/OFF is looked at.
    i = 3
    while i < len(argv):
        option = argv[i].lower()
        more = i + 1 < len(argv)
        if option == b"redirect" and more:
            i += 1
            if redirect:
                raise err("A client can only redirect to a single other client")
            redirect = to_int(argv[i])
            # The client must exist now; it may still go away later.
            if redirect not in ctx.server.clients:
                raise err("The client ID you want redirect to does not exist")
        elif option == b"bcast":
            bcast = True
        elif option == b"optin":
            optin = True
        elif option == b"optout":
            optout = True
        elif option == b"noloop":
            noloop = True
        elif option == b"prefix" and more:
            i += 1
            prefixes.append(argv[i])
        else:
            raise SyntaxErr()
        i += 1
    mode = argv[2].lower()
    tracking = ctx.server.tracking
    if mode == b"off":
        tracking.disable(ctx)
        return OK
    if mode != b"on":
        raise SyntaxErr()
    state = ctx.tracking
    if prefixes and not bcast:
        raise err("PREFIX option requires BCAST mode to be enabled")
    if state is not None and state.bcast != bcast:
        raise err("You can't switch BCAST mode on/off before disabling tracking for this "
                  "client, and then re-enabling it with a different mode.")
    if bcast and (optin or optout):
        raise err("OPTIN and OPTOUT are not compatible with BCAST")
    if optin and optout:
        raise err("You can't specify both OPTIN mode and OPTOUT mode")
    if state is not None and ((optin and state.optout) or (optout and state.optin)):
        raise err("You can't switch OPTIN/OPTOUT mode before disabling tracking for this "
                  "client, and then re-enabling it with a different mode.")
    overlap = None
    if bcast:
        overlap = _prefix_overlap(prefixes, state.prefixes if state is not None else ())
        if overlap is not None and overlap[1]:
            raise overlap[0]
    tracking.enable(ctx, redirect, bcast, optin, optout, noloop, prefixes)
    if overlap is not None:
        # Redis 7.0 replies the error of an overlap between two given prefixes past
        # the first, then enables tracking anyway and replies +OK as well.
        ctx.server.dispatcher.count_reply_error(overlap[0])
        return Frames([overlap[0], OK])
    return OK


def _prefix_overlap(prefixes: list[bytes], existing: Any
                    ) -> tuple[ReplyError, bool] | None:
    """The first overlap among the new prefixes and with the client's own (one of
    two prefixes starts the other), and whether it stops the command."""
    registered = sorted(existing)
    for i, prefix in enumerate(prefixes):
        for old in registered:
            if _overlaps(old, prefix):
                return err(f"Prefix '{c_string(prefix)}' overlaps with an existing prefix "
                           f"'{c_string(old)}'. Prefixes for a single client must not "
                           "overlap."), True
        for other in prefixes[i + 1:]:
            if _overlaps(prefix, other):
                return err(f"Prefix '{c_string(prefix)}' overlaps with another provided "
                           f"prefix '{c_string(other)}'. Prefixes for a single client must "
                           "not overlap."), i == 0
    return None


def _overlaps(first: bytes, second: bytes) -> bool:
    shorter = min(len(first), len(second))
    return first[:shorter] == second[:shorter]


@commands.command("CLIENT CACHING", arity=3, flags="noscript loading stale",
                  summary="Instruct the server about tracking or not keys in the next request",
                  since="6.0.0", complexity="O(1)")
def client_caching(ctx: Client, argv: list[bytes]) -> Any:
    """CLIENT CACHING YES|NO"""
    state = ctx.tracking
    if state is None:
        raise _NOT_TRACKING
    answer = argv[2].lower()
    if answer == b"yes":
        if not state.optin:
            raise err("CLIENT CACHING YES is only valid when tracking is enabled in "
                      "OPTIN mode.")
    elif answer == b"no":
        if not state.optout:
            raise err("CLIENT CACHING NO is only valid when tracking is enabled in "
                      "OPTOUT mode.")
    else:
        raise SyntaxErr()
    state.caching = True  # cleared when the next command (or EXEC) ends
    return OK


@commands.command("CLIENT GETREDIR", arity=2, flags="noscript loading stale",
                  summary="Get tracking notifications redirection client ID if any",
                  since="6.0.0", complexity="O(1)")
def client_getredir(ctx: Client, argv: list[bytes]) -> int:
    """CLIENT GETREDIR"""
    return ctx.tracking.redirect if ctx.tracking is not None else -1


@commands.command("CLIENT TRACKINGINFO", arity=2, flags="noscript loading stale",
                  summary="Return information about server assisted client side caching for "
                          "the current connection",
                  since="6.2.0", complexity="O(1)")
def client_trackinginfo(ctx: Client, argv: list[bytes]) -> dict:
    """CLIENT TRACKINGINFO"""
    state = ctx.tracking
    if state is None:
        return {b"flags": SetReply([b"off"]), b"redirect": -1, b"prefixes": []}
    return {b"flags": SetReply(state.info_flags()), b"redirect": state.redirect,
            b"prefixes": sorted(state.prefixes)}
