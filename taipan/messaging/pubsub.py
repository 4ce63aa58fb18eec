"""Pub/sub: who listens to which channel, pattern or shard channel, and delivery.

The registry maps each channel (pattern, shard channel) to its subscribers in
subscription order; each client keeps the mirror image (``Client.channels`` ...), so
either side can be listed or dropped without a scan. Most channels have a single
subscriber, so the registry holds that client itself, and an ordered set (a dict)
only from the second one: a subscription then costs a dict entry on each side.

PUBLISH encodes a message once per protocol, not once per subscriber: the frame's
body (channel and payload) is built once and each subscriber receives the RESP2 or
RESP3 header before it. Delivery appends to the subscriber's output queue
(``Client.deliver``); the network layer writes every queued client once per loop
turn, so a pipeline of publishes reaches each subscriber as one write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taipan.glob import glob_match

if TYPE_CHECKING:
    from taipan.net.client import Client


_MESSAGE = (b"*3\r\n$7\r\nmessage\r\n", b">3\r\n$7\r\nmessage\r\n")
_PMESSAGE = (b"*4\r\n$8\r\npmessage\r\n", b">4\r\n$8\r\npmessage\r\n")
_SMESSAGE = (b"*3\r\n$8\r\nsmessage\r\n", b">3\r\n$8\r\nsmessage\r\n")


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


class PubSub:
    """The server's subscriptions (``instance.pubsub``)."""

    __slots__ = ("channels", "patterns", "shard_channels")

    def __init__(self) -> None:
        # name -> its one subscribing Client, or several as an ordered set (a dict
        # whose values are None)
        self.channels: dict[bytes, Any] = {}
        self.patterns: dict[bytes, Any] = {}
        self.shard_channels: dict[bytes, Any] = {}

    # -- subscribing ---------------------------------------------------------------

    def subscribe(self, client: Client, channel: bytes) -> bool:
        """Add a subscription; False when the client already had it."""
        return _add(self.channels, client.channels, client, channel)

    def unsubscribe(self, client: Client, channel: bytes) -> bool:
        return _remove(self.channels, client.channels, client, channel)

    def psubscribe(self, client: Client, pattern: bytes) -> bool:
        return _add(self.patterns, client.patterns, client, pattern)

    def punsubscribe(self, client: Client, pattern: bytes) -> bool:
        return _remove(self.patterns, client.patterns, client, pattern)

    def ssubscribe(self, client: Client, channel: bytes) -> bool:
        return _add(self.shard_channels, client.shard_channels, client, channel)

    def sunsubscribe(self, client: Client, channel: bytes) -> bool:
        return _remove(self.shard_channels, client.shard_channels, client, channel)

    def drop_client(self, client: Client) -> None:
        """A disconnecting (or RESET) client leaves everything, without replies."""
        for channel in list(client.channels):
            self.unsubscribe(client, channel)
        for pattern in list(client.patterns):
            self.punsubscribe(client, pattern)
        for channel in list(client.shard_channels):
            self.sunsubscribe(client, channel)

    # -- publishing ----------------------------------------------------------------

    def publish(self, channel: bytes, message: bytes) -> int:
        """Deliver to the channel's subscribers and to every matching pattern's;
        the number of deliveries (a client matching twice counts twice)."""
        receivers = 0
        subscribers = self.channels.get(channel)
        body = b""
        if subscribers:
            body = _bulk(channel) + _bulk(message)
            receivers = _deliver(subscribers, _MESSAGE, body)
        if self.patterns:
            for pattern, clients in self.patterns.items():
                if not glob_match(pattern, channel):
                    continue
                if not body:
                    body = _bulk(channel) + _bulk(message)
                receivers += _deliver(clients, _PMESSAGE, _bulk(pattern) + body)
        return receivers

    def spublish(self, channel: bytes, message: bytes) -> int:
        subscribers = self.shard_channels.get(channel)
        if not subscribers:
            return 0
        return _deliver(subscribers, _SMESSAGE, _bulk(channel) + _bulk(message))

    # -- introspection (PUBSUB, INFO) -------------------------------------------------

    def active_channels(self, pattern: bytes | None, shard: bool = False) -> list[bytes]:
        table = self.shard_channels if shard else self.channels
        if pattern is None:
            return list(table)
        return [channel for channel in table if glob_match(pattern, channel)]

    def subscriber_count(self, channel: bytes, shard: bool = False) -> int:
        table = self.shard_channels if shard else self.channels
        subscribers = table.get(channel)
        if subscribers is None:
            return 0
        return len(subscribers) if type(subscribers) is dict else 1


def _add(table: dict[bytes, Any], own: dict[bytes, None], client: Client,
         name: bytes) -> bool:
    if name in own:
        return False
    own[name] = None
    subscribers = table.get(name)
    if subscribers is None:
        table[name] = client
    elif type(subscribers) is dict:
        subscribers[client] = None
    else:
        table[name] = {subscribers: None, client: None}
    client.subscription_changed()
    return True


def _remove(table: dict[bytes, Any], own: dict[bytes, None], client: Client,
            name: bytes) -> bool:
    if name not in own:
        return False
    del own[name]
    subscribers = table.get(name)
    if type(subscribers) is dict:
        subscribers.pop(client, None)
        if len(subscribers) == 1:
            table[name] = next(iter(subscribers))
    elif subscribers is client:
        del table[name]
    client.subscription_changed()
    return True


def _deliver(subscribers: Any, headers: tuple[bytes, bytes], body: bytes) -> int:
    """Queue one message for each subscriber, built once per protocol."""
    if type(subscribers) is not dict:
        subscribers.deliver(headers[1 if subscribers.resp == 3 else 0] + body)
        return 1
    frames: list[bytes | None] = [None, None]
    count = 0
    # (delivery never unsubscribes anyone: a client over its output limit is closed
    # on a later turn, so iterating the live dict is safe)
    for client in subscribers:
        index = 1 if client.resp == 3 else 0
        frame = frames[index]
        if frame is None:
            frame = frames[index] = headers[index] + body
        client.deliver(frame)
        count += 1
    return count
