"""Pub/sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB.

Subscription changes answer one confirmation per channel (``Frames`` of ``Push``
messages: arrays in RESP2, pushes in RESP3). The registry and delivery live in
``taipan/messaging/pubsub.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taipan.commands.table import CommandGroup
from taipan.errors import ReplyError
from taipan.protocol.reply import Frames, Push, Status

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("pubsub")

_SHARD_KEY_SPECS = ({"flags": "not_key", "index": 1, "lastkey": -1},)


def _unsubscribe_all(ctx: Client, names: list[bytes], drop: Any, kind: bytes,
                     count: Any) -> Frames:
    """Leave ``names`` (or everything when none is given), one confirmation each;
    with nothing to leave, one confirmation with a null name."""
    frames = Frames()
    for name in names:
        drop(ctx, name)
        frames.append(Push([kind, name, count(ctx)]))
    if not frames:
        frames.append(Push([kind, None, count(ctx)]))
    return frames


def _subscribe_each(ctx: Client, names: list[bytes], add: Any, kind: bytes,
                    count: Any) -> Frames:
    """Join each of ``names``, one confirmation each (also for repeats)."""
    frames = Frames()
    for name in names:
        add(ctx, name)
        frames.append(Push([kind, name, count(ctx)]))
    return frames


def _shard_count(ctx: Client) -> int:
    return len(ctx.shard_channels)


def _channel_count(ctx: Client) -> int:
    return ctx.subscription_count()


@commands.command("SUBSCRIBE", arity=-2, flags="pubsub noscript loading stale",
                  summary="Listen for messages published to the given channels", since="2.0.0",
                  complexity="O(N) where N is the number of channels to subscribe to.")
def subscribe(ctx: Client, argv: list[bytes]) -> Frames:
    """SUBSCRIBE channel [channel ...]"""
    return _subscribe_each(ctx, argv[1:], ctx.server.pubsub.subscribe, b"subscribe",
                           _channel_count)


@commands.command("UNSUBSCRIBE", arity=-1, flags="pubsub noscript loading stale",
                  summary="Stop listening for messages posted to the given channels",
                  since="2.0.0",
                  complexity="O(N) where N is the number of clients already subscribed to a "
                             "channel.")
def unsubscribe(ctx: Client, argv: list[bytes]) -> Frames:
    """UNSUBSCRIBE [channel [channel ...]]"""
    names = argv[1:] or list(ctx.channels)
    return _unsubscribe_all(ctx, names, ctx.server.pubsub.unsubscribe, b"unsubscribe",
                            _channel_count)


@commands.command("PSUBSCRIBE", arity=-2, flags="pubsub noscript loading stale",
                  summary="Listen for messages published to channels matching the given "
                          "patterns", since="2.0.0",
                  complexity="O(N) where N is the number of patterns the client is already "
                             "subscribed to.")
def psubscribe(ctx: Client, argv: list[bytes]) -> Frames:
    """PSUBSCRIBE pattern [pattern ...]"""
    return _subscribe_each(ctx, argv[1:], ctx.server.pubsub.psubscribe, b"psubscribe",
                           _channel_count)


@commands.command("PUNSUBSCRIBE", arity=-1, flags="pubsub noscript loading stale",
                  summary="Stop listening for messages posted to channels matching the given "
                          "patterns", since="2.0.0",
                  complexity="O(N+M) where N is the number of patterns the client is already "
                             "subscribed and M is the number of total patterns subscribed in "
                             "the system (by any client).")
def punsubscribe(ctx: Client, argv: list[bytes]) -> Frames:
    """PUNSUBSCRIBE [pattern [pattern ...]]"""
    names = argv[1:] or list(ctx.patterns)
    return _unsubscribe_all(ctx, names, ctx.server.pubsub.punsubscribe, b"punsubscribe",
                            _channel_count)


@commands.command("SSUBSCRIBE", arity=-2, flags="pubsub noscript loading stale",
                  keys=(1, -1, 1), key_specs=_SHARD_KEY_SPECS,
                  summary="Listen for messages published to the given shard channels",
                  since="7.0.0",
                  complexity="O(N) where N is the number of shard channels to subscribe to.")
def ssubscribe(ctx: Client, argv: list[bytes]) -> Frames:
    """SSUBSCRIBE shardchannel [shardchannel ...]"""
    if ctx.deny_blocking:
        # Inside EXEC (SUBSCRIBE is let through there for compatibility; SSUBSCRIBE,
        # being new, is not).
        raise ReplyError("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client")
    return _subscribe_each(ctx, argv[1:], ctx.server.pubsub.ssubscribe, b"ssubscribe",
                           _shard_count)


@commands.command("SUNSUBSCRIBE", arity=-1, flags="pubsub noscript loading stale",
                  keys=(1, -1, 1), key_specs=_SHARD_KEY_SPECS,
                  summary="Stop listening for messages posted to the given shard channels",
                  since="7.0.0",
                  complexity="O(N) where N is the number of clients already subscribed to a "
                             "shard channel.")
def sunsubscribe(ctx: Client, argv: list[bytes]) -> Frames:
    """SUNSUBSCRIBE [shardchannel [shardchannel ...]]"""
    names = argv[1:] or list(ctx.shard_channels)
    return _unsubscribe_all(ctx, names, ctx.server.pubsub.sunsubscribe, b"sunsubscribe",
                            _shard_count)


@commands.command("PUBLISH", arity=3, flags="pubsub loading stale fast may_replicate",
                  summary="Post a message to a channel", since="2.0.0",
                  complexity="O(N+M) where N is the number of clients subscribed to the "
                             "receiving channel and M is the total number of subscribed "
                             "patterns (by any client).")
def publish(ctx: Client, argv: list[bytes]) -> int:
    """PUBLISH channel message"""
    return ctx.server.pubsub.publish(argv[1], argv[2])


@commands.command("SPUBLISH", arity=3, flags="pubsub loading stale fast may_replicate",
                  keys=(1, 1, 1), key_specs=({"flags": "not_key", "index": 1, "lastkey": 0},),
                  summary="Post a message to a shard channel", since="7.0.0",
                  complexity="O(N) where N is the number of clients subscribed to the receiving "
                             "shard channel.")
def spublish(ctx: Client, argv: list[bytes]) -> int:
    """SPUBLISH shardchannel message"""
    return ctx.server.pubsub.spublish(argv[1], argv[2])


commands.container("PUBSUB", summary="A container for Pub/Sub commands", since="2.8.0")


@commands.command("PUBSUB CHANNELS", arity=-2, flags="pubsub loading stale",
                  summary="List active channels", since="2.8.0",
                  complexity="O(N) where N is the number of active channels, and assuming "
                             "constant time pattern matching (relatively short channels and "
                             "patterns)")
def pubsub_channels(ctx: Client, argv: list[bytes]) -> list[bytes]:
    """PUBSUB CHANNELS [pattern]"""
    _at_most(argv, 3)
    return ctx.server.pubsub.active_channels(argv[2] if len(argv) == 3 else None)


@commands.command("PUBSUB NUMSUB", arity=-2, flags="pubsub loading stale",
                  summary="Get the count of subscribers for channels", since="2.8.0",
                  complexity="O(N) for the NUMSUB subcommand, where N is the number of "
                             "requested channels")
def pubsub_numsub(ctx: Client, argv: list[bytes]) -> list[Any]:
    """PUBSUB NUMSUB [channel [channel ...]]"""
    return _counts(ctx, argv[2:], shard=False)


@commands.command("PUBSUB NUMPAT", arity=2, flags="pubsub loading stale",
                  summary="Get the count of unique patterns pattern subscriptions",
                  since="2.8.0", complexity="O(1)")
def pubsub_numpat(ctx: Client, argv: list[bytes]) -> int:
    """PUBSUB NUMPAT"""
    return len(ctx.server.pubsub.patterns)


@commands.command("PUBSUB SHARDCHANNELS", arity=-2, flags="pubsub loading stale",
                  summary="List active shard channels", since="7.0.0",
                  complexity="O(N) where N is the number of active shard channels, and "
                             "assuming constant time pattern matching (relatively short shard "
                             "channels).")
def pubsub_shardchannels(ctx: Client, argv: list[bytes]) -> list[bytes]:
    """PUBSUB SHARDCHANNELS [pattern]"""
    _at_most(argv, 3)
    return ctx.server.pubsub.active_channels(argv[2] if len(argv) == 3 else None, shard=True)


@commands.command("PUBSUB SHARDNUMSUB", arity=-2, flags="pubsub loading stale",
                  summary="Get the count of subscribers for shard channels", since="7.0.0",
                  complexity="O(N) for the SHARDNUMSUB subcommand, where N is the number of "
                             "requested shard channels")
def pubsub_shardnumsub(ctx: Client, argv: list[bytes]) -> list[Any]:
    """PUBSUB SHARDNUMSUB [shardchannel [shardchannel ...]]"""
    return _counts(ctx, argv[2:], shard=True)


def _counts(ctx: Client, channels: list[bytes], shard: bool) -> list[Any]:
    """Channel, subscriber count, ...: a flat array in both protocols, as Redis."""
    pubsub = ctx.server.pubsub
    reply: list[Any] = []
    for channel in channels:
        reply += (channel, pubsub.subscriber_count(channel, shard))
    return reply


_HELP = (
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
)


@commands.command("PUBSUB HELP", arity=2, flags="loading stale", acl="-pubsub",
                  summary="Show helpful text about the different subcommands", since="6.2.0",
                  complexity="O(1)")
def pubsub_help(ctx: Client, argv: list[bytes]) -> list[Status]:
    """PUBSUB HELP"""
    return [Status(line) for line in _HELP]


def _at_most(argv: list[bytes], count: int) -> None:
    if len(argv) > count:
        sub = argv[1].decode("utf-8", "replace")
        raise ReplyError(f"ERR unknown subcommand or wrong number of arguments for '{sub}'. "
                         "Try PUBSUB HELP.")
