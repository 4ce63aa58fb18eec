"""MONITOR and CLIENT REPLY against a real redis-server, byte for byte.

Each scenario drives raw connections through the same steps on both servers while
a MONITOR connection listens, and records what the monitor (and, for CLIENT REPLY,
the client itself) receives. Timestamps and client ports are normalized; every other
byte must match. The servers are shared by the session: keys are unique to this
file and removed, monitors are closed at the end of each scenario.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable

import pytest
from support.raw import RawClient
from support.servers import ServerProcess, start_redis, start_taipan

Transcript = list[tuple[str, bytes]]
MARK = "__monitor_compat_end__"
_TIMESTAMP = re.compile(rb"^\+\d{10}\.\d{6} \[", re.M)
_UNKNOWN_PEER = re.compile(rb"^\+TS \[\d+ 127\.0\.0\.1:\d+\] .*\r\n", re.M)


class Session:
    """One server: the connections a scenario opens, and their normalized output."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.clients: list[RawClient] = []
        self.labels: dict[bytes, bytes] = {}
        self.marker = self.connect()

    def connect(self, resp: int = 2) -> RawClient:
        client = RawClient(self.port, timeout=5)
        self.clients.append(client)
        port = client.sock.getsockname()[1]
        self.labels[b"127.0.0.1:%d" % port] = b"client%d" % len(self.labels)
        if resp == 3:
            client.call("HELLO", "3")
        return client

    def monitor(self, resp: int = 2) -> RawClient:
        monitor = self.connect(resp)
        assert monitor.call("MONITOR") == b"+OK\r\n"
        return monitor

    def close(self) -> None:
        for client in self.clients:
            client.close()

    def normalize(self, data: bytes) -> bytes:
        data = _TIMESTAMP.sub(b"+TS [", data)
        for addr, label in self.labels.items():
            data = data.replace(b" " + addr + b"]", b" " + label + b"]")
        # Lines from connections other tests left behind are not ours to compare.
        return _UNKNOWN_PEER.sub(b"", data)

    def drain(self, monitor: RawClient) -> bytes:
        """Everything ``monitor`` received until now (normalized), up to a marker
        command sent from another connection."""
        self.marker.call("ECHO", MARK)
        end = b'"ECHO" "%s"\r\n' % MARK.encode()
        data = monitor.buf
        while end not in data:
            chunk = monitor.sock.recv(65536)
            if not chunk:
                raise ConnectionError("monitor closed")
            data += chunk
        head, _, monitor.buf = data.partition(end)
        head = head[:head.rfind(b"\r\n") + 2] if b"\r\n" in head else b""
        return self.normalize(head)

    def wait_for(self, watcher: RawClient, needle: bytes) -> None:
        """Read a second monitor until it shows ``needle``: the commands before it ran."""
        self.received(watcher, needle)

    def received(self, client: RawClient, until: bytes) -> bytes:
        """What ``client`` received up to and including ``until``."""
        data = client.buf
        while until not in data:
            chunk = client.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        head, _, client.buf = data.partition(until)
        return self.normalize(head + until)


Scenario = Callable[[Session], Transcript]


def _run(scenario: Scenario, port: int) -> Transcript:
    session = Session(port)
    try:
        return scenario(session)
    finally:
        session.close()


def _same(real_redis: ServerProcess, taipan: ServerProcess, scenario: Scenario) -> None:
    expected = _run(scenario, real_redis.port)
    actual = _run(scenario, taipan.port)
    assert [step for step, _ in actual] == [step for step, _ in expected]
    for (step, want), (_, got) in zip(expected, actual, strict=True):
        assert got == want, f"{step}\n  redis:  {want!r}\n  taipan: {got!r}"


def _pipeline(client: RawClient, *commands: tuple[str | bytes | int, ...]) -> None:
    client.send_raw(b"".join(RawClient.encode(*command) for command in commands))


def _calls(client: RawClient, *commands: tuple[str | bytes | int, ...]) -> bytes:
    return b"".join(client.call(*command) for command in commands)


# -- what a monitor sees -------------------------------------------------------------

def _plain_commands(s: Session) -> Transcript:
    monitor = s.monitor()
    c = s.connect()
    _calls(c, ("SET", "mon:k", "v"), ("GET", "mon:k"), ("INCR", "mon:n"), ("INCRBY", "mon:n", -7),
           ("SET", "mon:e", ""), ("APPEND", "mon:e", "x y"), ("lpush", "mon:l", "a", "b"),
           ("DEL", "mon:k", "mon:n", "mon:e", "mon:l"))
    out = [("plain", s.drain(monitor))]
    every_byte = bytes(range(256))
    _calls(c, ("SET", "mon:bin", every_byte), ("ECHO", b'"quoted" \\back\\ \x00\xff'),
           ("ECHO", "caf\u00e9 \u2603"), ("GETDEL", "mon:bin"))
    out.append(("binary", s.drain(monitor)))
    _calls(c, ("SELECT", "3"), ("SET", "mon:db", "3"), ("DEL", "mon:db"), ("SELECT", "0"),
           ("SWAPDB", "0", "0"), ("PING",), ("PING", "hello"))
    out.append(("databases", s.drain(monitor)))
    return out


def _errors_and_hidden(s: Session) -> Transcript:
    monitor = s.monitor()
    c = s.connect()
    _calls(c, ("NOSUCHCOMMAND", "a"), ("GET",), ("CONFIG", "NOSUCH"), ("SET", "mon:s", "v"),
           ("LPUSH", "mon:s", "x"), ("INCR", "mon:s"), ("SET", "mon:s", "v", "XX", "NX"),
           ("DEL", "mon:s"))
    out = [("errors", s.drain(monitor))]
    _calls(c, ("CONFIG", "GET", "maxmemory"), ("CLIENT", "LIST"), ("CLIENT", "KILL", "ID", "999999"),
           ("CLIENT", "ID"), ("CLIENT", "SETNAME", "monname"), ("CLIENT", "GETNAME"),
           ("DEBUG", "SLEEP", "0"), ("INFO", "keyspace"), ("COMMAND", "COUNT"),
           ("OBJECT", "HELP"), ("DBSIZE",), ("SHUTDOWN", "ABORT"), ("BGREWRITEAOF", "x"),
           ("CLIENT", "PAUSE", "1"), ("CLIENT", "UNPAUSE"))
    out.append(("admin commands are hidden", s.drain(monitor)))
    return out


def _transactions(s: Session) -> Transcript:
    monitor = s.monitor()
    c = s.connect()
    other = s.connect()
    _calls(c, ("MULTI",), ("SET", "mon:t", "1"), ("INCR", "mon:t"), ("CONFIG", "GET", "port"),
           ("EXEC",))
    out = [("exec", s.drain(monitor))]
    _calls(c, ("MULTI",), ("SET", "mon:t"), ("INCR", "mon:t"), ("EXEC",))
    out.append(("execabort", s.drain(monitor)))
    _calls(c, ("WATCH", "mon:t"))
    other.call("SET", "mon:t", "9")
    _calls(c, ("MULTI",), ("GET", "mon:t"), ("EXEC",))
    out.append(("watched key touched", s.drain(monitor)))
    _calls(c, ("MULTI",), ("PING",), ("DISCARD",), ("EXEC",), ("MULTI",), ("EXEC", "extra"),
           ("exec", "x", "y"), ("MULTI",), ("SELECT", "2"), ("SET", "mon:t2", "x"),
           ("DEL", "mon:t2"), ("EXEC",), ("PING",), ("SELECT", "0"))
    out.append(("discard, refused exec, select inside", s.drain(monitor)))
    got = _calls(c, ("MULTI",), ("MONITOR",), ("EXEC",))
    out.append(("monitor in multi: replies", got))
    out.append(("monitor in multi", s.drain(monitor)))
    c.call("DEL", "mon:t")
    return out


_SCRIPT = ("redis.call('set', KEYS[1], ARGV[1]) redis.call('select', 4) "
           "redis.call('set', KEYS[1], 'in4') redis.call('del', KEYS[1]) "
           "redis.pcall('nosuch') redis.pcall('get') redis.pcall('config', 'get', 'x') "
           "redis.pcall('incr', 'mon:lua', 'y') redis.pcall('lpush', KEYS[1], 'x') "
           "return redis.call('get', KEYS[1])")
_LIBRARY = ("#!lua name=monlib\n"
            "redis.register_function('monf', function(keys, args) "
            "return redis.call('set', keys[1], args[1]) end)\n"
            "redis.register_function{function_name='monro', "
            "callback=function(keys) return redis.call('get', keys[1]) end, "
            "flags={'no-writes'}}")


def _scripts(s: Session) -> Transcript:
    monitor = s.monitor()
    c = s.connect()
    sha = c.call("SCRIPT", "LOAD", "return redis.call('incrby', KEYS[1], ARGV[1])")
    _calls(c, ("EVAL", _SCRIPT, 1, "mon:lua", 42), ("EVAL", "return 1", "notanumber"),
           ("EVAL", "return redis.call('get', 'mon:lua')", 0),
           ("EVALSHA", sha[5:-2], 1, "mon:ctr", 5), ("EVALSHA", "0" * 40, 0),
           ("EVAL_RO", "return redis.call('get', KEYS[1])", 1, "mon:lua"),
           ("EVAL", "return redis.call('nosuch')", 0),
           ("EVAL", "return {redis.call('ping'), redis.call('echo', 'a\\nb')}", 0))
    out = [("eval", s.drain(monitor))]
    _calls(c, ("FUNCTION", "LOAD", "REPLACE", _LIBRARY), ("FCALL", "monf", 1, "mon:f", "v"),
           ("FCALL_RO", "monro", 1, "mon:f"), ("FCALL", "nosuch", 0),
           ("FUNCTION", "DELETE", "monlib"))
    out.append(("functions", s.drain(monitor)))
    _calls(c, ("MULTI",), ("EVAL", "return redis.call('incr', KEYS[1])", 1, "mon:ctr"),
           ("PING",), ("EXEC",))
    out.append(("eval inside exec", s.drain(monitor)))
    c.call("DEL", "mon:lua", "mon:ctr", "mon:f")
    c.call("SELECT", "4")
    c.call("DEL", "mon:lua")
    return out


def _redaction(s: Session) -> Transcript:
    monitor = s.monitor()
    c = s.connect()
    _calls(c, ("AUTH", "secret"), ("AUTH", "someone", "secret"), ("AUTH", "a", "b", "c"),
           ("HELLO", "2", "AUTH", "default", "secret"),
           ("HELLO", "2", "AUTH", "default", "secret", "SETNAME", "monitored"),
           ("HELLO", "4", "AUTH", "default", "secret"), ("HELLO", "x", "AUTH", "a", "b"),
           ("HELLO", "2", "AUTH", "default"), ("HELLO", "2", "SETNAME", "n", "AUTH", "u", "p"),
           ("HELLO", "2", "AUTH", "nobody", "pw", "AUTH", "default", "pw2"),
           ("HELLO", "2", "AUTH", "default", "pw", "BADOPT", "z"),
           ("MULTI",), ("AUTH", "queued-secret"), ("EXEC",))
    return [("redacted", s.drain(monitor))]


def _blocking(s: Session) -> Transcript:
    monitor = s.monitor()
    c = s.connect()
    blocked = s.connect()
    blocked.send_raw(RawClient.encode("BLPOP", "mon:bl", 0))
    time.sleep(0.2)
    c.call("RPUSH", "mon:bl", "x")
    reply = blocked.read_reply()
    _calls(c, ("MULTI",), ("BLPOP", "mon:bl", 1), ("EXEC",))
    out = [("served", reply), ("blocked", s.drain(monitor))]
    blocked.send_raw(RawClient.encode("BLPOP", "mon:bl", "0.1"))
    out.append(("timed out", blocked.read_reply()))
    out.append(("timed out lines", s.drain(monitor)))
    return out


# -- the monitoring connection itself -----------------------------------------------

def _monitor_client(s: Session) -> Transcript:
    out: Transcript = []
    for resp in (2, 3):
        watcher = s.monitor()
        monitor = s.connect(resp)
        c = s.connect()
        _pipeline(monitor, ("MONITOR",), ("PING",), ("MONITOR",), ("ECHO", "hi"),
                  ("GET", "mon:x"), ("SET", "mon:x", "1"), ("EVAL", "return 1", 0),
                  ("PUBLISH", "mon:ch", "m"), ("CLIENT", "ID"), ("CONFIG", "GET", "maxmemory"),
                  ("DBSIZE",), ("SELECT", "1"), ("PING",), ("SELECT", "0"), ("MULTI",),
                  ("PING",), ("GET", "mon:x"), ("EXEC",), ("MULTI",), ("PING",), ("ECHO", "x"),
                  ("EXEC",), ("WATCH", "mon:x"), ("UNWATCH",), ("ECHO", "synced"))
        got = s.received(monitor, b'"ECHO" "synced"\r\n')
        c.call("SET", "mon:y", "1")
        c.call("DEL", "mon:y")
        got += s.drain(monitor)
        # The client ID differs between the servers: only its reply's shape counts.
        out.append((f"RESP{resp} own commands", re.sub(rb":\d+\r\n", b":ID\r\n", got)))
        _pipeline(monitor, ("SUBSCRIBE", "mon:ch"), ("PING",))
        got = s.received(monitor, b'"PING"\r\n')
        c.call("PUBLISH", "mon:ch", "hello")
        _pipeline(monitor, ("UNSUBSCRIBE",))
        out.append((f"RESP{resp} subscribed", got + s.drain(monitor)))
        _pipeline(monitor, ("RESET",))
        out.append((f"RESP{resp} reset", s.received(monitor, b"+RESET\r\n")))
        c.call("PING")
        _pipeline(monitor, ("MONITOR",))
        got = s.received(monitor, b"+OK\r\n")
        out.append((f"RESP{resp} reset left monitor mode", got + s.drain(monitor)))
        _pipeline(monitor, ("QUIT",))
        out.append((f"RESP{resp} quit", monitor.read_until_closed()))
        out.append((f"RESP{resp} what another monitor saw", s.drain(watcher)))
    return out


# -- CLIENT REPLY ----------------------------------------------------------------------

_END = b"$3\r\nend\r\n"


def _client_reply(s: Session) -> Transcript:
    out: Transcript = []
    publisher = s.connect()
    watcher = s.monitor()
    for resp in (2, 3):
        c = s.connect(resp)
        sequences: list[tuple[str, list[tuple[str | int, ...]]]] = [
            ("off, on", [("CLIENT", "REPLY", "OFF"), ("PING",), ("SET", "mon:r", "1"),
                         ("CLIENT", "REPLY", "ON"), ("GET", "mon:r")]),
            ("skip", [("CLIENT", "REPLY", "SKIP"), ("ECHO", "skipped"), ("ECHO", "a")]),
            ("skip, skip", [("CLIENT", "REPLY", "SKIP"), ("CLIENT", "REPLY", "SKIP"),
                            ("ECHO", "s1"), ("ECHO", "b")]),
            ("skip, on", [("CLIENT", "REPLY", "SKIP"), ("CLIENT", "REPLY", "ON"), ("ECHO", "c")]),
            ("off, skip", [("CLIENT", "REPLY", "OFF"), ("CLIENT", "REPLY", "SKIP"),
                           ("ECHO", "o1"), ("ECHO", "o2"), ("CLIENT", "REPLY", "ON")]),
            ("bad mode", [("CLIENT", "REPLY", "MAYBE"), ("CLIENT", "REPLY", "OFF"),
                          ("CLIENT", "REPLY", "MAYBE"), ("CLIENT", "REPLY", "ON"),
                          ("CLIENT", "REPLY")]),
            ("skip errors", [("CLIENT", "REPLY", "SKIP"), ("NOSUCH",), ("NOSUCH",)]),
            ("skip inside exec", [("MULTI",), ("CLIENT", "REPLY", "SKIP"), ("PING",),
                                  ("EXEC",), ("ECHO", "skipped"), ("ECHO", "d"), ("ECHO", "e")]),
            ("skip before multi", [("CLIENT", "REPLY", "SKIP"), ("MULTI",), ("PING",),
                                   ("EXEC",)]),
        ]
        for name, commands in sequences:
            _pipeline(c, *commands, ("ECHO", "end"))
            out.append((f"RESP{resp} {name}", s.received(c, _END)))
        # Pub/sub confirmations and messages are pushes: Redis sends them whatever
        # the reply mode; the RESP2 subscribed PING answer is a reply.
        _pipeline(c, ("CLIENT", "REPLY", "OFF"), ("SUBSCRIBE", "mon:rc"), ("PING", "sub1"))
        s.wait_for(watcher, b'"PING" "sub1"\r\n')
        publisher.call("PUBLISH", "mon:rc", "m1")
        _pipeline(c, ("UNSUBSCRIBE", "mon:rc"), ("CLIENT", "REPLY", "ON"), ("ECHO", "end"))
        out.append((f"RESP{resp} off while subscribed", s.received(c, _END)))
        _pipeline(c, ("CLIENT", "REPLY", "SKIP"), ("SUBSCRIBE", "mon:ra", "mon:rb"))
        s.wait_for(watcher, b'"SUBSCRIBE" "mon:ra" "mon:rb"\r\n')
        publisher.call("PUBLISH", "mon:ra", "m2")
        _pipeline(c, ("PING",), ("CLIENT", "REPLY", "SKIP"), ("UNSUBSCRIBE", "mon:ra", "mon:rb"),
                  ("ECHO", "end"))
        out.append((f"RESP{resp} skip while subscribed", s.received(c, _END)))
        c.call("DEL", "mon:r")
    return out


def _monitor_reply_modes(s: Session) -> Transcript:
    out: Transcript = []
    for resp in (2, 3):
        watcher = s.monitor()
        monitor = s.connect(resp)
        c = s.connect()

        def step(*commands: tuple[str, ...], monitor: RawClient = monitor,
                 watcher: RawClient = watcher) -> None:
            # Sync on the watcher: it shows the monitor's last command once it ran.
            _pipeline(monitor, *commands)
            s.wait_for(watcher, b" ".join(b'"%s"' % a.encode() for a in commands[-1])
                       + b"\r\n")

        step(("CLIENT", "REPLY", "OFF"), ("MONITOR",), ("PING",))
        c.call("SET", "mon:z", "1")
        step(("CLIENT", "REPLY", "ON"))
        c.call("SET", "mon:z", "2")
        step(("CLIENT", "REPLY", "SKIP"))
        c.call("SET", "mon:z", "3")
        step(("PING",))
        c.call("SET", "mon:z", "4")
        step(("CLIENT", "REPLY", "OFF"), ("PING",))
        c.call("DEL", "mon:z")
        step(("CLIENT", "REPLY", "ON"), ("ECHO", "on again"))
        out.append((f"RESP{resp}", s.drain(monitor)))
    return out


SCENARIOS = {
    "plain commands, quoting, databases": _plain_commands,
    "errors and admin commands": _errors_and_hidden,
    "transactions": _transactions,
    "scripts and functions": _scripts,
    "AUTH and HELLO redaction": _redaction,
    "blocking commands": _blocking,
    "the monitoring client": _monitor_client,
    "CLIENT REPLY": _client_reply,
    "a monitor's reply modes": _monitor_reply_modes,
}


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_monitor_matches_redis(real_redis: ServerProcess, taipan: ServerProcess,
                               scenario: Scenario) -> None:
    _same(real_redis, taipan, scenario)


def test_unix_socket_address(real_redis: ServerProcess, tmp_path) -> None:
    """Clients on the unix socket show as ``unix:<path>``; scripts' commands as ``lua``."""
    transcripts = []
    for start, name in ((start_redis, "redis.sock"), (start_taipan, "taipan.sock")):
        path = str(tmp_path / name)
        server = start("--unixsocket", path)
        try:
            def scenario(s: Session, path: str = path) -> Transcript:
                monitor = s.monitor()
                sock = socket.socket(socket.AF_UNIX)
                sock.connect(path)
                sock.sendall(RawClient.encode("SET", "mon:u", "1")
                             + RawClient.encode("EVAL", "return redis.call('del', 'mon:u')", 0))
                received = b""
                while received.count(b"\r\n") < 2:
                    received += sock.recv(100)
                sock.close()
                return [("unix", s.drain(monitor).replace(path.encode(), b"PATH"))]

            transcripts.append(_run(scenario, server.port))
        finally:
            server.stop()
    assert transcripts[1] == transcripts[0]
