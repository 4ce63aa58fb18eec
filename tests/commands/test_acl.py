"""ACL users through redis-py, and the ACL file / ``user`` directives across restarts
(compared with a real redis-server started the same way where it has one)."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from support.servers import (
    ServerProcess,
    _spawn,
    free_port,
    redis_server_path,
    start_redis,
    start_taipan,
)

# -- redis-py API on the shared Taipan ---------------------------------------------------


@pytest.fixture
def rd(taipan: ServerProcess) -> Iterator[redis.Redis]:
    """A str-replies client (redis-py decodes most ACL replies anyway)."""
    client = redis.Redis(port=taipan.port, decode_responses=True)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def users(rd: redis.Redis) -> Iterator[list[str]]:
    """Names to delete after the test."""
    created: list[str] = []
    yield created
    if created:
        rd.acl_deluser(*created)
    rd.acl_log_reset()


def test_setuser_getuser(rd: redis.Redis, users: list[str]) -> None:
    users.append("py_alice")
    assert rd.acl_setuser("py_alice", enabled=True, passwords=["+pw1", "+pw2"],
                         keys=["k*", "%R~r*"], channels=["ch*"],
                         commands=["+get", "+set", "+@hash"]) is True
    info = rd.acl_getuser("py_alice")
    assert info["enabled"] is True
    assert "on" in info["flags"]
    assert info["passwords"] == [hashlib.sha256(p).hexdigest() for p in (b"pw1", b"pw2")]
    assert info["keys"] == ["~k*", "%R~r*"]
    assert info["channels"] == ["&ch*"]
    # redis-py splits the description into categories and single commands.
    assert info["categories"] == ["-@all", "+@hash"]
    assert sorted(info["commands"]) == ["+get", "+set"]
    assert info["selectors"] == []
    assert rd.acl_getuser("py_nosuch") is None


def test_setuser_reset_and_selectors(rd: redis.Redis, users: list[str]) -> None:
    users.append("py_sel")
    rd.acl_setuser("py_sel", enabled=True, nopass=True, commands=["+get"], keys=["a"],
                  selectors=[("+set", "~b*")])
    info = rd.acl_getuser("py_sel")
    assert "nopass" in info["flags"]
    assert len(info["selectors"]) == 1
    assert rd.acl_setuser("py_sel", reset=True) is True
    info = rd.acl_getuser("py_sel")
    assert info["flags"] == ["off", "sanitize-payload"]
    assert info["selectors"] == [] and info["keys"] == [] and info["commands"] == []
    assert info["categories"] == ["-@all"]


def test_acl_list_users_whoami(rd: redis.Redis, users: list[str]) -> None:
    users.extend(["py_zed", "py_amy"])
    rd.acl_setuser("py_zed")
    rd.acl_setuser("py_amy", enabled=True, keys=["x"], commands=["+get"])
    names = rd.acl_users()
    assert names == sorted(names) and "py_amy" in names and "default" in names
    listing = rd.acl_list()
    assert "user py_amy on ~x resetchannels -@all +get" in listing
    assert "user py_zed off resetchannels -@all" in listing
    assert rd.acl_whoami() == "default"


def test_auth_with_username(taipan: ServerProcess, rd: redis.Redis, users: list[str]) -> None:
    users.append("py_bob")
    rd.acl_setuser("py_bob", enabled=True, passwords=["+secret"], keys=["bob:*"],
                  commands=["+@all"])
    rd.set("bob:1", "v")
    client = redis.Redis(port=taipan.port, decode_responses=True)
    try:
        assert client.auth("secret", username="py_bob") is True
        assert client.acl_whoami() == "py_bob"
        assert client.get("bob:1") == "v"
        with pytest.raises(redis.exceptions.NoPermissionError, match="'other' key|keys"):
            client.get("other")
        with pytest.raises(redis.exceptions.AuthenticationError):
            client.auth("wrong", username="py_bob")
    finally:
        client.close()


def test_client_with_credentials(taipan: ServerProcess, rd: redis.Redis,
                                 users: list[str]) -> None:
    users.append("py_carol")
    rd.acl_setuser("py_carol", enabled=True, passwords=["+pw"], keys=["*"],
                  commands=["+@read", "+acl|whoami"])
    client = redis.Redis(port=taipan.port, decode_responses=True, username="py_carol", password="pw")
    try:
        assert client.acl_whoami() == "py_carol"
        assert client.get("k") is None
        with pytest.raises(redis.exceptions.NoPermissionError,
                           match="no permissions to run the 'set' command"):
            client.set("k", "v")
    finally:
        client.close()
    bad = redis.Redis(port=taipan.port, decode_responses=True, username="py_carol", password="nope")
    try:
        with pytest.raises(redis.exceptions.AuthenticationError):
            bad.ping()
    finally:
        bad.close()
    resp3 = redis.Redis(port=taipan.port, decode_responses=True, username="py_carol", password="pw", protocol=3)
    try:
        assert resp3.acl_whoami() == "py_carol"
    finally:
        resp3.close()


def test_deluser_disconnects(taipan: ServerProcess, rd: redis.Redis, users: list[str]) -> None:
    rd.acl_setuser("py_gone", enabled=True, passwords=["+pw"], commands=["+@all"],
                  keys=["*"])
    client = redis.Redis(port=taipan.port, decode_responses=True, username="py_gone", password="pw")
    try:
        assert client.ping() is True
        assert rd.acl_deluser("py_gone") == 1
        with pytest.raises(redis.exceptions.RedisError):
            client.ping()  # reconnects: the user is gone
    finally:
        client.close()


def test_cat_genpass_dryrun_log(taipan: ServerProcess, rd: redis.Redis,
                                users: list[str]) -> None:
    assert "keyspace" in rd.acl_cat()
    assert "get" in rd.acl_cat("read")
    assert re.fullmatch(r"[0-9a-f]{64}", rd.acl_genpass())
    assert re.fullmatch(r"[0-9a-f]{2}", rd.acl_genpass(5))
    users.append("py_dry")
    rd.acl_setuser("py_dry", enabled=True, nopass=True, commands=["+get"], keys=["k"])
    assert rd.acl_dryrun("py_dry", "get", "k") == "OK"
    assert rd.acl_dryrun("py_dry", "set", "k", "v") == \
        "This user has no permissions to run the 'set' command"
    assert rd.acl_dryrun("py_dry", "get", "x") == \
        "This user has no permissions to access the 'x' key"
    rd.acl_log_reset()
    client = redis.Redis(port=taipan.port, decode_responses=True, username="py_dry", password="")
    try:
        for _ in range(2):
            with pytest.raises(redis.exceptions.NoPermissionError):
                client.get("x")
    finally:
        client.close()
    log = rd.acl_log()
    assert len(log) == 1
    entry = log[0]
    assert entry["count"] == 2 and entry["reason"] == "key" and entry["object"] == "x"
    assert entry["context"] == "toplevel" and entry["username"] == "py_dry"
    assert isinstance(entry["age-seconds"], float)
    assert entry["client-info"]["user"] == "py_dry"
    assert rd.acl_log_reset() is True
    assert rd.acl_log() == []


def test_rule_changes_reach_connected_clients(taipan: ServerProcess, rd: redis.Redis,
                                              users: list[str]) -> None:
    """Checks are specialised per user and command on first use; every rule change
    must still apply to the next request of clients already logged in."""
    users.append("py_live")
    rd.acl_setuser("py_live", enabled=True, nopass=True, commands=["+@all"], keys=["a:*"])
    client = redis.Redis(port=taipan.port, decode_responses=True, username="py_live",
                         password="")
    try:
        client.set("a:1", "v")
        assert client.get("a:1") == "v"
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.get("b:1")
        rd.acl_setuser("py_live", keys=["%R~b:*"])
        assert client.get("b:1") is None
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.set("b:1", "v")
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.set("b:1", "v", get=True)  # SET ... GET needs both
        rd.acl_setuser("py_live", keys=["%W~b:*"])
        client.set("b:1", "v")
        assert client.set("b:1", "w", get=True) == "v"
        rd.acl_setuser("py_live", reset_keys=True, keys=["c:*"])
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.get("a:1")
        rd.acl_setuser("py_live", commands=["-get"])
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.get("c:1")
        rd.execute_command("ACL", "SETUSER", "py_live", "(~d:* +get)")
        assert client.get("d:1") is None  # allowed by the selector
    finally:
        client.close()


def test_info_counts_denials_by_kind(taipan: ServerProcess, rd: redis.Redis,
                                     users: list[str]) -> None:
    """INFO stats acl_access_denied_* (Redis 7.2's fields), cleared by CONFIG RESETSTAT."""
    rd.config_resetstat()
    rd.acl_log_reset()
    users.append("py_counted")
    rd.acl_setuser("py_counted", enabled=True, passwords=["+pw"], commands=["+get", "+publish"],
                   keys=["k"], channels=["ch"])
    client = redis.Redis(port=taipan.port, decode_responses=True, username="py_counted",
                         password="pw")
    try:
        for call in (lambda: client.set("k", "v"), lambda: client.get("x"),
                     lambda: client.get("y"), lambda: client.publish("other", "m")):
            with pytest.raises(redis.exceptions.NoPermissionError):
                call()
        with pytest.raises(redis.exceptions.AuthenticationError):
            client.auth("wrong", "py_counted")
    finally:
        client.close()
    stats = rd.info("stats")
    assert [stats[f"acl_access_denied_{kind}"] for kind in ("cmd", "key", "channel")] == [1, 2, 1]
    # redis-py retries a failed AUTH on its own, so count the tries the log saw.
    auth_tries = sum(entry["count"] for entry in rd.acl_log() if entry["reason"] == "auth")
    assert stats["acl_access_denied_auth"] == auth_tries >= 1
    rd.config_resetstat()
    assert rd.info("stats")["acl_access_denied_key"] == 0


def test_requirepass_sets_default_password(taipan: ServerProcess, rd: redis.Redis) -> None:
    rd.config_set("requirepass", "topsecret")
    try:
        info = rd.acl_getuser("default")
        assert info["passwords"] == [hashlib.sha256(b"topsecret").hexdigest()]
        assert "nopass" not in info["flags"]
        fresh = redis.Redis(port=taipan.port, decode_responses=True)
        try:
            with pytest.raises(redis.exceptions.AuthenticationError):
                fresh.ping()
        finally:
            fresh.close()
        authed = redis.Redis(port=taipan.port, decode_responses=True, password="topsecret")
        try:
            assert authed.ping() is True
        finally:
            authed.close()
    finally:
        rd.config_set("requirepass", "")
    info = rd.acl_getuser("default")
    assert "nopass" in info["flags"] and info["passwords"] == []


# -- the ACL file and user directives ------------------------------------------------------

ACL_FILE = (
    "user default on nopass ~* &* +@all\n"
    "user alice on #" + hashlib.sha256(b"alicepw").hexdigest() + " ~a* resetchannels "
    "-@all +get +set\n"
    "user bob off resetchannels &news.* -@all +@hash (~b* +lpush)\n"
)

BAD_LINES = {
    "unknown_command": "user carol on -@all +nosuchcmd\n",
    "not_user": "usr carol on\n",
    "bad_hash": "user carol on #abc\n",
    "duplicate": "user alice on\n",
    "unbalanced_quotes": "user carol \"on\n",
    "pattern_after_all": "user carol allkeys ~x\n",
}

ACL_FILE_NAME = "users.acl"


def _started(kind: str, content: str, *extra: str) -> ServerProcess:
    """A server whose ACL file (in its own temporary directory) holds ``content``."""
    folder = tempfile.mkdtemp(prefix=f"acl-{kind}-")
    path = os.path.join(folder, ACL_FILE_NAME)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(content)
    start = start_taipan if kind == "taipan" else start_redis
    server = start("--aclfile", path, *extra)
    server.acl_path = path  # type: ignore[attr-defined]
    return server


def _acl_path(server: ServerProcess) -> str:
    return server.acl_path  # type: ignore[attr-defined]


@pytest.fixture
def both_with_aclfile() -> Iterator[tuple[ServerProcess, ServerProcess]]:
    if redis_server_path() is None:
        pytest.skip("redis-server is not installed")
    ref, ours = _started("redis", ACL_FILE), _started("taipan", ACL_FILE)
    yield ref, ours
    for server in (ref, ours):
        server.stop()
        folder = os.path.dirname(_acl_path(server))
        for name in os.listdir(folder):
            os.unlink(os.path.join(folder, name))
        os.rmdir(folder)


def _client(server: ServerProcess, **kwargs) -> redis.Redis:
    return redis.Redis(port=server.port, decode_responses=True, **kwargs)


def _sorted_singles(line: str | bytes) -> str:
    """Sort runs of single-command rules (Redis lists them in a random order)."""
    if isinstance(line, bytes):
        line = line.decode()
    out, run = [], []
    for token in line.split(" "):
        if re.match(r"^[+-][^@]", token) and not token.endswith(")"):
            run.append(token)
            continue
        out.extend(sorted(run))
        run = []
        out.append(token)
    return " ".join(out + sorted(run))


def _listing(server: ServerProcess) -> list[str]:
    client = _client(server)
    try:
        return [_sorted_singles(line) for line in client.acl_list()]
    finally:
        client.close()


def test_aclfile_loaded_at_start(both_with_aclfile) -> None:
    ref, ours = both_with_aclfile
    assert _listing(ours) == _listing(ref)
    client = _client(ours, username="alice", password="alicepw")
    try:
        assert client.set("a1", "v") is True
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.set("b1", "v")
    finally:
        client.close()


def test_acl_load_after_edit(both_with_aclfile) -> None:
    ref, ours = both_with_aclfile
    edited = ACL_FILE.replace("+get +set", "+get") + "user dave on nopass ~d* +@all\n"
    for server in (ref, ours):
        with open(_acl_path(server), "w", encoding="utf-8") as handle:
            handle.write(edited)
        assert _client(server).acl_load() is True
    assert _listing(ours) == _listing(ref)
    # acl-pubsub-default is resetchannels: a file's new user has no channels.
    assert "user dave on nopass ~d* resetchannels +@all" in _listing(ours)


def test_acl_load_drops_missing_users_and_connections(both_with_aclfile) -> None:
    _, ours = both_with_aclfile
    alice = _client(ours, username="alice", password="alicepw")
    try:
        assert alice.get("a1") is None
        with open(_acl_path(ours), "w", encoding="utf-8") as handle:
            handle.write("user default on nopass ~* &* +@all\n")
        assert _client(ours).acl_load() is True
        assert _client(ours).acl_users() == ["default"]
        with pytest.raises(redis.exceptions.RedisError):
            alice.execute_command("GET", "a1")
    finally:
        alice.close()


def _load_error(server: ServerProcess) -> str:
    client = _client(server)
    try:
        with pytest.raises(redis.exceptions.ResponseError) as info:
            client.acl_load()
        return str(info.value).replace(_acl_path(server), "<path>")
    finally:
        client.close()


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_acl_load_bad_line(both_with_aclfile, case: str) -> None:
    """The whole load is refused, nothing applied; the error names the line."""
    ref, ours = both_with_aclfile
    before = _listing(ours)
    content = ACL_FILE.replace("+get +set", "+get") + BAD_LINES[case]
    for server in (ref, ours):
        with open(_acl_path(server), "w", encoding="utf-8") as handle:
            handle.write(content)
    expected, actual = _load_error(ref), _load_error(ours)
    assert actual == expected
    assert "4" in actual
    assert _listing(ours) == before  # nothing half-applied
    assert _listing(ours) == _listing(ref)


def test_acl_load_unmatched_parenthesis(both_with_aclfile) -> None:
    """Redis 7.0.15 crashes (SIGSEGV) on this ACL LOAD: no reference, Taipan refuses it."""
    _, ours = both_with_aclfile
    before = _listing(ours)
    with open(_acl_path(ours), "w", encoding="utf-8") as handle:
        handle.write(ACL_FILE + "user carol on (~x +get\n")
    error = _load_error(ours)
    assert error.startswith("<path>:4: Unmatched parenthesis in selector definition.")
    assert _listing(ours) == before


def test_acl_load_missing_file(both_with_aclfile) -> None:
    ref, ours = both_with_aclfile
    for server in (ref, ours):
        os.unlink(_acl_path(server))
    assert _load_error(ours) == _load_error(ref)


def test_acl_save_then_restart(both_with_aclfile) -> None:
    ref, ours = both_with_aclfile
    for server in (ref, ours):
        client = _client(server)
        client.acl_setuser("erin", enabled=True, passwords=["+epw"], keys=["e*"],
                           commands=["+get"], channels=["c1"])
        client.execute_command("ACL", "SETUSER", "frank", "on", "(~f* +set)",
                               "skip-sanitize-payload")
        assert client.acl_save() is True
        client.close()
    contents = []
    for server in (ref, ours):
        with open(_acl_path(server), "rb") as handle:
            contents.append([_sorted_singles(line) for line in handle.read().split(b"\n")])
    assert contents[1] == contents[0]
    before = _listing(ours)
    path = _acl_path(ours)
    ours.stop()
    restarted = start_taipan("--aclfile", path)
    try:
        assert _listing(restarted) == before
        client = _client(restarted, username="erin", password="epw")
        assert client.get("e1") is None
        client.close()
    finally:
        restarted.stop()
        os.makedirs(ours.workdir, exist_ok=True)


def _write_config(folder: Path, lines: list[str]) -> str:
    folder.mkdir(exist_ok=True)
    path = os.path.join(folder, "server.conf")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in lines))
    return path


def _start_with_config(kind: str, conf: str) -> ServerProcess:
    port = free_port()
    workdir = tempfile.mkdtemp(prefix=f"acl-{kind}-")
    if kind == "taipan":
        cmd = [sys.executable, "-m", "taipan", conf, "--port", str(port), "--bind",
               "127.0.0.1", "--save", ""]
    else:
        cmd = [redis_server_path() or "redis-server", conf, "--port", str(port), "--bind",
               "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir]
    return _spawn(cmd, port, workdir, kind)


def _run_to_exit(kind: str, conf: str) -> tuple[int, str]:
    port = free_port()
    if kind == "taipan":
        cmd = [sys.executable, "-m", "taipan", conf, "--port", str(port)]
    else:
        cmd = [redis_server_path() or "redis-server", conf, "--port", str(port)]
    proc = subprocess.run(cmd, capture_output=True, timeout=30, text=True)
    return proc.returncode, proc.stdout + proc.stderr


USER_LINES = ["user gina on >gpw ~g* resetchannels -@all +get",
              "user hank off nopass resetchannels &h* -@all +@string"]


@pytest.fixture
def needs_redis() -> None:
    if redis_server_path() is None:
        pytest.skip("redis-server is not installed")


def test_user_directives_in_config(needs_redis, tmp_path) -> None:
    conf = _write_config(tmp_path, USER_LINES)
    servers = [_start_with_config("redis", conf), _start_with_config("taipan", conf)]
    try:
        assert _listing(servers[1]) == _listing(servers[0])
        client = _client(servers[1], username="gina", password="gpw")
        assert client.get("g1") is None
        client.close()
    finally:
        for server in servers:
            server.stop()


def test_user_directives_and_aclfile_refused(needs_redis, tmp_path) -> None:
    aclfile = os.path.join(tmp_path, "users.acl")
    with open(aclfile, "w", encoding="utf-8") as handle:
        handle.write(ACL_FILE)
    conf = _write_config(tmp_path, [*USER_LINES, f"aclfile {aclfile}"])
    code_ref, out_ref = _run_to_exit("redis", conf)
    code_ours, out_ours = _run_to_exit("taipan", conf)
    assert code_ref != 0 and code_ours != 0
    message = ("Configuring Redis with users defined in redis.conf and at the same setting "
               "an ACL file path is invalid.")
    assert message in out_ref
    assert message in out_ours


def test_bad_user_directive_refused(needs_redis, tmp_path) -> None:
    conf = _write_config(tmp_path, ["user ivy on +nosuchcommand"])
    code_ref, out_ref = _run_to_exit("redis", conf)
    code_ours, out_ours = _run_to_exit("taipan", conf)
    assert code_ref != 0 and code_ours != 0
    ref_line = next(line for line in out_ref.splitlines() if "ACL" in line)
    assert ref_line.split("# ", 1)[-1] in out_ours


def test_config_rewrite_writes_user_lines(needs_redis, tmp_path) -> None:
    servers = []
    try:
        for kind in ("redis", "taipan"):
            conf = _write_config(tmp_path / kind, ["# test", USER_LINES[0]])
            server = _start_with_config(kind, conf)
            servers.append((server, conf))
            client = _client(server)
            client.execute_command("ACL", "SETUSER", "jack", "on", ">jpw", "~j*", "+get")
            client.execute_command("ACL", "SETUSER", "gina", "+set")
            client.execute_command("CONFIG", "SET", "requirepass", "rootpw")
            client.close()
            client = _client(server, password="rootpw")
            assert client.config_rewrite() in (True, "OK")
            client.close()
        lines = []
        for _, conf in servers:
            with open(conf, "rb") as handle:
                lines.append([_sorted_singles(line) for line in handle.read().split(b"\n")
                          if line.startswith(b"user ") or line.startswith(b"requirepass")])
        assert sorted(lines[1]) == sorted(lines[0])
        assert any(line.startswith("user jack on #") for line in lines[1])
    finally:
        for server, _ in servers:
            server.stop()


def test_config_rewrite_user_line_placement(needs_redis, tmp_path) -> None:
    servers = []
    try:
        layouts = []
        for kind in ("redis", "taipan"):
            conf = _write_config(tmp_path / kind, ["# test", USER_LINES[0]])
            server = _start_with_config(kind, conf)
            servers.append((server, conf))
            client = _client(server)
            client.execute_command("ACL", "SETUSER", "jack", "on", ">jpw", "~j*", "+get")
            assert client.config_rewrite() in (True, "OK")
            client.close()
            with open(conf, encoding="utf-8") as handle:
                layouts.append([line.split(" on ")[0] for line in handle.read().split("\n")
                                if line.startswith(("user ", "# Generated", "# test"))])
        assert layouts[1] == layouts[0]
    finally:
        for server, _ in servers:
            server.stop()


def test_rule_changes_apply_at_once_to_open_connections() -> None:
    # Dispatch skips the permission checks while every user is unrestricted (a flag
    # the ACL refreshes): a change must reach connections already open.
    server = start_taipan()
    try:
        client = redis.Redis(port=server.port)
        client.set("k", "v")
        client.execute_command("ACL", "SETUSER", "default", "-get")
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.get("k")
        client.execute_command("ACL", "SETUSER", "default", "+get")
        assert client.get("k") == b"v"
        client.execute_command("ACL", "SETUSER", "narrow", "on", "nopass", "+get", "~a*")
        assert client.get("k") == b"v"  # the default user is still unrestricted
        other = redis.Redis(port=server.port, username="narrow", password="x")
        with pytest.raises(redis.exceptions.NoPermissionError):
            other.get("k")
        client.execute_command("ACL", "DELUSER", "narrow")
        client.execute_command("ACL", "SETUSER", "default", "resetkeys", "~b*")
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.get("k")
        other.close()
        client.close()
    finally:
        server.stop()
