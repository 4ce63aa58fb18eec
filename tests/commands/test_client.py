"""CLIENT subcommands over real connections: identity, listing, killing, pausing, replies."""

from __future__ import annotations

import re
import socket
import threading
import time

import pytest
import redis
from support.raw import RawClient
from support.servers import ServerProcess


@pytest.fixture
def raw(taipan: ServerProcess):
    clients: list[RawClient] = []

    def connect() -> RawClient:
        client = RawClient(taipan.port)
        clients.append(client)
        assert client.call("PING") == b"+PONG\r\n"  # accepted and registered by now
        return client

    yield connect
    for client in clients:
        client.close()


def _closed(client: RawClient, timeout: float = 2.0) -> bool:
    return client.read_until_closed(timeout).endswith(b"<still open>") is False


def _client_id(client: RawClient) -> int:
    return int(client.call("CLIENT", "ID")[1:-2])


def test_id_setname_getname(raw) -> None:
    a, b = raw(), raw()
    assert _client_id(b) > _client_id(a)
    assert a.call("CLIENT", "GETNAME") == b"$-1\r\n"
    assert a.call("CLIENT", "SETNAME", "worker-1") == b"+OK\r\n"
    assert a.call("CLIENT", "GETNAME") == b"$8\r\nworker-1\r\n"
    listing = b.call("CLIENT", "LIST").decode()
    assert re.search(rf"id={_client_id(a)} addr=\S+ laddr=\S+ fd=\d+ name=worker-1 ", listing)
    assert a.call("CLIENT", "SETNAME", "") == b"+OK\r\n"
    assert a.call("CLIENT", "GETNAME") == b"$-1\r\n"


def test_client_list_filters_and_flags(raw) -> None:
    a, b = raw(), raw()
    a_id, b_id = _client_id(a), _client_id(b)
    listing = a.call("CLIENT", "LIST", "ID", b_id, a_id, "999999").split(b"\r\n", 1)[1]
    lines = listing.decode().splitlines()[:-1]
    assert [int(line.split()[0][3:]) for line in lines] == [b_id, a_id]
    a.call("MULTI")
    a.call("PING")
    info = b.call("CLIENT", "LIST", "ID", a_id).decode()
    assert " flags=x " in info and " multi=1 " in info
    a.call("DISCARD")
    a.call("CLIENT", "NO-EVICT", "on")
    assert " flags=e " in a.call("CLIENT", "INFO").decode()
    assert " cmd=client|info " in a.call("CLIENT", "INFO").decode()


def test_kill_by_id_closes_only_that_client(raw) -> None:
    killer, victim, bystander = raw(), raw(), raw()
    assert killer.call("CLIENT", "KILL", "ID", _client_id(victim)) == b":1\r\n"
    assert _closed(victim)
    assert bystander.call("PING") == b"+PONG\r\n"
    assert killer.call("CLIENT", "KILL", "ID", _client_id(killer)) == b":0\r\n"  # SKIPME yes


def test_kill_old_form_by_address(raw) -> None:
    killer, victim = raw(), raw()
    address = victim.sock.getsockname()
    assert killer.call("CLIENT", "KILL", f"{address[0]}:{address[1]}") == b"+OK\r\n"
    assert _closed(victim)
    assert killer.call("CLIENT", "KILL", f"{address[0]}:{address[1]}") == \
        b"-ERR No such client\r\n"


def test_kill_self_replies_then_closes(raw) -> None:
    old_form = raw()
    address = old_form.sock.getsockname()
    assert old_form.call("CLIENT", "KILL", f"{address[0]}:{address[1]}") == b"+OK\r\n"
    assert _closed(old_form)
    new_form = raw()
    assert new_form.call("CLIENT", "KILL", "ID", _client_id(new_form), "SKIPME", "no") == \
        b":1\r\n"
    assert _closed(new_form)


def test_kill_by_filters(raw) -> None:
    killer, a, b = raw(), raw(), raw()
    a_port = a.sock.getsockname()[1]
    assert killer.call("CLIENT", "KILL", "ADDR", f"127.0.0.1:{a_port}", "TYPE", "normal") == \
        b":1\r\n"
    assert _closed(a)
    laddr = b.sock.getpeername()
    assert killer.call("CLIENT", "KILL", "LADDR", f"{laddr[0]}:{laddr[1]}", "USER", "default",
                       "ID", _client_id(b)) == b":1\r\n"
    assert _closed(b)
    assert killer.call("CLIENT", "KILL", "TYPE", "master") == b":0\r\n"


def _timed(call, *args) -> tuple[object, float]:
    started = time.monotonic()
    result = call(*args)
    return result, time.monotonic() - started


def test_pause_write_lets_reads_through_and_parks_writes(raw) -> None:
    pauser, worker = raw(), raw()
    worker.call("SET", "pause-key", "before")
    assert pauser.call("CLIENT", "PAUSE", "600", "WRITE") == b"+OK\r\n"
    try:
        reply, elapsed = _timed(worker.call, "GET", "pause-key")
        assert reply == b"$6\r\nbefore\r\n" and elapsed < 0.3
        assert worker.call("NOSUCH").startswith(b"-ERR unknown command")  # errors at once
        reply, elapsed = _timed(worker.call, "SET", "pause-key", "after")
        assert reply == b"+OK\r\n" and elapsed > 0.4
    finally:
        pauser.call("CLIENT", "UNPAUSE")
    assert worker.call("GET", "pause-key") == b"$5\r\nafter\r\n"
    worker.call("DEL", "pause-key")


def test_pause_parks_exec_with_writes_and_unpause_releases(raw) -> None:
    pauser, worker, observer = raw(), raw(), raw()
    worker.call("MULTI")
    worker.call("INCR", "pause-counter")
    pauser.call("CLIENT", "PAUSE", "5000", "WRITE")
    threading.Timer(0.3, pauser.call, ("CLIENT", "UNPAUSE")).start()
    time.sleep(0.1)
    flags = observer.call("CLIENT", "LIST", "ID", _client_id(observer)).decode()
    assert " flags=N " in flags
    reply, elapsed = _timed(worker.call, "EXEC")
    assert reply == b"*1\r\n:1\r\n" and 0.1 < elapsed < 3
    worker.call("DEL", "pause-counter")


def test_pause_all_parks_every_command(raw) -> None:
    pauser, worker = raw(), raw()
    assert pauser.call("CLIENT", "PAUSE", "400", "ALL") == b"+OK\r\n"
    reply, elapsed = _timed(worker.call, "PING")
    assert reply == b"+PONG\r\n" and elapsed > 0.25
    reply, elapsed = _timed(pauser.call, "PING")
    assert reply == b"+PONG\r\n" and elapsed < 0.3


def test_active_expiry_resumes_when_a_pause_runs_out_unnoticed(raw) -> None:
    """A pause holds the active expiry cycle; once it runs out the cycle resumes by
    itself, not only when a request next arrives to notice the pause is over."""
    client = raw()
    base = _expired_keys(client)
    client.call("SET", "pause-expiring", "v", "PX", "100")
    assert client.call("CLIENT", "PAUSE", "50", "WRITE") == b"+OK\r\n"
    time.sleep(0.6)  # no request meanwhile: only the cron can end the pause
    assert _expired_keys(client) == base + 1


def _expired_keys(client: RawClient) -> int:
    info = client.call("INFO", "stats").decode()
    return int(re.search(r"expired_keys:(\d+)", info).group(1))


def test_paused_client_shows_blocked_flag(raw) -> None:
    pauser, worker, observer = raw(), raw(), raw()
    worker_id = _client_id(worker)
    pauser.call("CLIENT", "PAUSE", "2000", "WRITE")
    try:
        worker.send_raw(RawClient.encode("SET", "blocked-key", "1"))
        time.sleep(0.15)
        line = observer.call("CLIENT", "LIST", "ID", worker_id).decode()
        assert " flags=b " in line
    finally:
        pauser.call("CLIENT", "UNPAUSE")
    assert worker.read_reply() == b"+OK\r\n"
    worker.call("DEL", "blocked-key")


def test_client_reply_off_and_skip(raw) -> None:
    client = raw()
    client.send_raw(b"".join(RawClient.encode(*args) for args in [
        ("CLIENT", "REPLY", "OFF"), ("PING", "hidden"), ("CLIENT", "REPLY", "ON"),
        ("CLIENT", "REPLY", "SKIP"), ("PING", "skipped"), ("PING", "shown")]))
    assert client.read_reply() == b"+OK\r\n"
    assert client.read_reply() == b"$5\r\nshown\r\n"


def test_redis_py_client_helpers(taipan: ServerProcess) -> None:
    r = redis.Redis(port=taipan.port, decode_responses=True)
    try:
        r.client_setname("py")
        assert r.client_getname() == "py"
        me = r.client_info()
        assert me["name"] == "py" and me["db"] == 0 and me["cmd"] == "client|info"
        assert any(str(c["id"]) == str(me["id"]) for c in r.client_list())
        assert r.client_id() == me["id"]
        with pytest.raises(redis.ResponseError, match="No such client"):
            r.client_kill("1.2.3.4:5")
    finally:
        r.close()


def test_max_name_characters_refused(raw) -> None:
    client = raw()
    reply = client.call("CLIENT", "SETNAME", "bad name")
    assert reply == b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"


def test_killed_socket_sees_eof(taipan: ServerProcess) -> None:
    sock = socket.create_connection(("127.0.0.1", taipan.port))
    sock.sendall(b"PING\r\n")
    assert sock.recv(10) == b"+PONG\r\n"
    with RawClient(taipan.port) as killer:
        port = sock.getsockname()[1]
        assert killer.call("CLIENT", "KILL", f"127.0.0.1:{port}") == b"+OK\r\n"
    sock.settimeout(2)
    assert sock.recv(10) == b""
    sock.close()
