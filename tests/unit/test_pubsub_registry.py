"""The pub/sub registry on its own: subscriptions both ways, delivery, encodings."""

from __future__ import annotations

from taipan.instance import Instance
from taipan.messaging.pubsub import PubSub
from taipan.net.client import Client
from taipan.protocol.reply import Frames, Push, Raw, encode


def _clients(count: int, resp: int = 2) -> tuple[Instance, list[Client]]:
    instance = Instance()
    clients = [Client(i + 1, instance) for i in range(count)]
    for client in clients:
        client.resp = resp
    return instance, clients


def test_lone_subscriber_is_held_directly_then_shared() -> None:
    _, (a, b) = _clients(2)
    pubsub = PubSub()
    assert pubsub.subscribe(a, b"ch") is True
    assert pubsub.channels[b"ch"] is a
    assert pubsub.subscribe(a, b"ch") is False  # already subscribed
    pubsub.subscribe(b, b"ch")
    assert list(pubsub.channels[b"ch"]) == [a, b]
    assert pubsub.subscriber_count(b"ch") == 2
    pubsub.unsubscribe(a, b"ch")
    assert pubsub.channels[b"ch"] is b
    assert pubsub.unsubscribe(a, b"ch") is False
    pubsub.unsubscribe(b, b"ch")
    assert b"ch" not in pubsub.channels
    assert pubsub.subscriber_count(b"ch") == 0
    assert not a.subscribed and not b.subscribed


def test_publish_counts_channel_and_every_matching_pattern() -> None:
    _, (a, b) = _clients(2)
    pubsub = PubSub()
    pubsub.subscribe(a, b"news.1")
    pubsub.psubscribe(a, b"news.*")
    pubsub.psubscribe(b, b"news.?")
    pubsub.psubscribe(b, b"other.*")
    assert pubsub.publish(b"news.1", b"hi") == 3
    assert a.outbuf == [
        b"*3\r\n$7\r\nmessage\r\n$6\r\nnews.1\r\n$2\r\nhi\r\n",
        b"*4\r\n$8\r\npmessage\r\n$6\r\nnews.*\r\n$6\r\nnews.1\r\n$2\r\nhi\r\n",
    ]
    assert b.outbuf == [b"*4\r\n$8\r\npmessage\r\n$6\r\nnews.?\r\n$6\r\nnews.1\r\n$2\r\nhi\r\n"]
    assert pubsub.publish(b"nobody", b"x") == 0


def test_one_frame_per_protocol_shared_by_subscribers() -> None:
    _, clients = _clients(3)
    clients[2].resp = 3
    pubsub = PubSub()
    for client in clients:
        pubsub.subscribe(client, b"c")
    assert pubsub.publish(b"c", b"m") == 3
    assert clients[0].outbuf[0] is clients[1].outbuf[0]  # encoded once for RESP2
    assert clients[2].outbuf == [b">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n"]


def test_shard_channels_are_separate() -> None:
    _, (a,) = _clients(1)
    pubsub = PubSub()
    pubsub.ssubscribe(a, b"s")
    assert a.subscribed and a.subscription_count() == 0
    assert pubsub.publish(b"s", b"m") == 0
    assert pubsub.spublish(b"s", b"m") == 1
    assert a.outbuf == [b"*3\r\n$8\r\nsmessage\r\n$1\r\ns\r\n$1\r\nm\r\n"]
    assert pubsub.active_channels(None, shard=True) == [b"s"]
    assert pubsub.active_channels(b"x*", shard=True) == []


def test_drop_client_leaves_everything() -> None:
    _, (a, b) = _clients(2)
    pubsub = PubSub()
    for name in (b"x", b"y"):
        pubsub.subscribe(a, name)
        pubsub.subscribe(b, name)
    pubsub.psubscribe(a, b"p*")
    pubsub.ssubscribe(a, b"s")
    pubsub.drop_client(a)
    assert not a.subscribed
    assert pubsub.channels == {b"x": b, b"y": b}
    assert pubsub.patterns == {} and pubsub.shard_channels == {}


def test_frames_and_raw_encode_in_place() -> None:
    frames = Frames([Push([b"subscribe", b"a", 1]), Push([b"subscribe", b"b", 2])])
    assert encode(frames, 2) == (b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
                                 b"*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n")
    assert encode([frames], 3).startswith(b"*1\r\n>3\r\n")
    assert encode(Raw(b"+line\r\n"), 3) == b"+line\r\n"
