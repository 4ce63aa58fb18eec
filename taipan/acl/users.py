"""The server's ACL users: the table, authentication, the ACL LOG, and the ACL
file (``aclfile``) or ``user`` directives they load from.

Permission checks themselves are in ``acl/check.py``; rule parsing and descriptions
in ``acl/rules.py``; the ACL command in ``commands/acl_cmd.py``.
"""

from __future__ import annotations

import hmac
import os
import time
from collections import deque
from typing import Any

from taipan.acl.rules import (
    ENOENT,
    CommandIndex,
    RuleError,
    User,
    has_spaces,
    hash_password,
    merge_selector_args,
    split_args,
)

# ACL LOG reasons and contexts, as Redis names them.
DENIED_CMD, DENIED_KEY, DENIED_AUTH, DENIED_CHANNEL = 1, 2, 3, 4
REASONS = {DENIED_CMD: "command", DENIED_KEY: "key", DENIED_AUTH: "auth",
           DENIED_CHANNEL: "channel"}
_GROUPING_MS = 60_000  # entries this close in time with the same fields are merged


class LogEntry:
    __slots__ = ("count", "reason", "context", "object", "username", "ctime_ms",
                 "client_info")

    def __init__(self, reason: int, context: str, obj: bytes, username: bytes,
                 client_info: str) -> None:
        self.count = 1
        self.reason = reason
        self.context = context
        self.object = obj
        self.username = username
        self.ctime_ms = int(time.time() * 1000)
        self.client_info = client_info


class AclUsers:
    def __init__(self, table: Any, config: Any) -> None:
        self.index = CommandIndex(table)
        self.config = config
        self.users: dict[bytes, User] = {}
        self.default = self._fresh_default()
        self.users[b"default"] = self.default
        self.log: deque[LogEntry] = deque()
        # INFO stats: acl_access_denied_auth / _cmd / _key / _channel.
        self.denied: dict[int, int] = {}
        self.reset_denied()
        # Set by the Instance: disconnect a user's clients when it goes away, and
        # its subscribers whose subscriptions it may no longer have.
        self.kill_clients_of: Any = None
        self.channels_changed: Any = None
        # True while every user may run anything (the usual lone default user); set
        # by ``refresh_restrictions``, which then calls ``restrictions_changed``.
        self.all_unrestricted = False
        self.restrictions_changed: Any = None
        self.refresh_restrictions()

    @property
    def pubsub_all(self) -> bool:
        return self.config.acl_pubsub_default == "allchannels"

    # -- users -------------------------------------------------------------------------

    def get(self, name: bytes) -> User | None:
        return self.users.get(name)

    def sorted_users(self) -> list[User]:
        """Users in Redis's order (its radix tree: by name, bytewise)."""
        return [self.users[name] for name in sorted(self.users)]

    def config_lines(self) -> list[str]:
        """Every user as a ``user`` directive (ACL LIST, CONFIG REWRITE, ACL SAVE)."""
        return [f"user {_text(user.name)} {user.describe(self.index)}"
                for user in self.sorted_users()]

    def set_user(self, name: bytes, args: list[bytes]) -> str | None:
        """ACL SETUSER: apply every rule to a copy, then keep it; the error text when
        a rule is refused (nothing applied then)."""
        merged = merge_selector_args(args)
        if isinstance(merged, int):
            text = args[merged].decode("utf-8", "surrogateescape")
            return f"Unmatched parenthesis in acl selector starting at '{text}'."
        existing = self.users.get(name)
        staged = existing.copy() if existing is not None else User(name, self.pubsub_all)
        for op in merged:
            try:
                staged.apply(self.index, op, self.pubsub_all)
            except RuleError as error:
                text = op.decode("utf-8", "surrogateescape")
                return f"Error in ACL SETUSER modifier '{text}': {error.reason}"
        if existing is None:
            self.users[name] = staged
        else:
            existing.replace_with(staged)
            if self.channels_changed is not None:
                self.channels_changed(existing)
        self.refresh_restrictions()
        return None

    def delete(self, names: list[bytes]) -> int:
        deleted = 0
        for name in names:
            user = self.users.pop(name, None)
            if user is not None:
                deleted += 1
                if self.kill_clients_of is not None:
                    self.kill_clients_of(user)
        return deleted

    def refresh_restrictions(self) -> None:
        """Note on each user whether it may run anything (so dispatch skips checks)."""
        for user in self.users.values():
            root = user.root
            user.unrestricted = (root.all_commands and root.all_keys and root.all_channels)
        self.all_unrestricted = all(user.unrestricted for user in self.users.values())
        if self.restrictions_changed is not None:
            self.restrictions_changed()

    def set_default_password(self, password: str) -> None:
        """``requirepass``: the default user's only password ("" makes it nopass)."""
        self.default.apply(self.index, b"resetpass", False)
        if password:
            self.default.apply(self.index, b">" + password.encode(), False)
        else:
            self.default.apply(self.index, b"nopass", False)

    def auth_required(self) -> bool:
        """Whether new connections start unauthenticated (Redis's authRequired)."""
        return not self.default.nopass or not self.default.enabled

    # -- authentication ----------------------------------------------------------------

    def check_credentials(self, name: bytes, password: bytes) -> User | None:
        user = self.users.get(name)
        if user is None or not user.enabled:
            return None
        if user.nopass:
            return user
        digest = hash_password(password)
        for stored in user.passwords:
            if hmac.compare_digest(digest, stored):
                return user
        return None

    # -- ACL LOG -----------------------------------------------------------------------

    def reset_denied(self) -> None:
        """Zero the INFO acl_access_denied_* counters (CONFIG RESETSTAT)."""
        self.denied = {DENIED_AUTH: 0, DENIED_CMD: 0, DENIED_KEY: 0, DENIED_CHANNEL: 0}

    def denied_stats(self) -> dict[str, int]:
        """INFO's acl_access_denied_* fields, in Redis 7.2's order."""
        denied = self.denied
        return {"acl_access_denied_auth": denied[DENIED_AUTH],
                "acl_access_denied_cmd": denied[DENIED_CMD],
                "acl_access_denied_key": denied[DENIED_KEY],
                "acl_access_denied_channel": denied[DENIED_CHANNEL]}

    def record(self, reason: int, context: str, obj: bytes, username: bytes,
               client_info: str) -> None:
        """A denial: counted, and logged (merged into a recent similar entry)."""
        self.denied[reason] += 1
        entry = LogEntry(reason, context, obj, username, client_info)
        for position, current in enumerate(list(self.log)[:10]):
            if (current.reason == reason and current.context == context
                    and abs(current.ctime_ms - entry.ctime_ms) <= _GROUPING_MS
                    and current.object == obj and current.username == username):
                del self.log[position]
                current.client_info = client_info
                current.ctime_ms = entry.ctime_ms
                current.count += 1
                self.log.appendleft(current)
                return
        self.log.appendleft(entry)
        limit = max(self.config.acllog_max_len, 0)
        while len(self.log) > limit:
            self.log.pop()

    # -- the ACL file ------------------------------------------------------------------

    def load_lines(self, lines: list[bytes], origin: str) -> str | None:
        """Users from ``user ...`` lines, all or nothing (Redis's ACLLoadFromFile,
        texts included); the error text otherwise. The users loaded replace all
        others, whose connections are closed; a missing ``default`` is reset."""
        staged: dict[bytes, User] = {}
        errors = ""
        for number, raw in enumerate(lines, 1):
            line = raw.strip(b" \t\r\n")
            if not line:
                continue
            argv = [word for word in line.split(b" ")]
            if argv[0] != b"user" or len(argv) < 2:
                errors += (f"{origin}:{number} should start with user keyword followed by "
                           "the username. ")
                continue
            name = argv[1]
            if has_spaces(name):
                errors += (f"'{origin}:{number}: username '{_text(name)}' contains invalid "
                           "characters. ")
                continue
            if name in staged:
                errors += f"WARNING: Duplicate user '{_text(name)}' found on line {number}. "
                continue
            user = staged[name] = User(name, self.pubsub_all)
            merged = merge_selector_args(argv[2:])
            if isinstance(merged, int):
                errors += f"{origin}:{number}: Unmatched parenthesis in selector definition."
                continue
            syntax_error = False
            for op in merged:
                op = op.strip(b"\t\r\n")
                try:
                    user.apply(self.index, op, self.pubsub_all)
                except RuleError as error:
                    if error.reason == ENOENT:
                        errors += (f"{origin}:{number}: Error in applying operation "
                                   f"'{_text(op)}': {error.reason}. ")
                    elif not syntax_error:
                        errors += f"{origin}:{number}: {error.reason}. "
                        syntax_error = True
        if errors:
            return errors + ("WARNING: ACL errors detected, no change to the previously "
                             "active ACL rules was performed")
        fresh_default = staged.pop(b"default", None) or self._fresh_default()
        self.default.replace_with(fresh_default)
        old = [user for user in self.users.values() if user is not self.default]
        self.users = {b"default": self.default, **staged}
        if self.kill_clients_of is not None:
            for user in old:  # (Redis frees every old user, killing its clients)
                self.kill_clients_of(user)
        self.refresh_restrictions()
        return None

    def load_config_users(self, lines: list[bytes]) -> list[str]:
        """``user`` directives of the config file, applied in order (Redis's
        ACLLoadConfiguredUsers): the log lines to write, the last one an error when
        a rule is refused (the server then doesn't start)."""
        notes: list[str] = []
        for line in lines:
            argv = split_args(line)[1:]
            name = argv[0] if argv else b""
            if has_spaces(name):
                return [*notes, "Spaces not allowed in ACL usernames"]
            user = self.users.get(name)
            if user is None:
                user = self.users[name] = User(name, self.pubsub_all)
            else:
                user.apply(self.index, b"reset", self.pubsub_all)
            merged = merge_selector_args(argv[1:])
            if isinstance(merged, int):
                return [*notes, f"Unmatched parenthesis in acl selector starting at "
                                f"'{_text(argv[1 + merged])}'."]
            for op in merged:
                try:
                    user.apply(self.index, op, self.pubsub_all)
                except RuleError as error:
                    return [*notes, f"Error loading ACL rule '{_text(op)}' for the user "
                                    f"named '{_text(name)}': {error.reason}"]
            if not user.enabled:
                notes.append(f"The user '{_text(name)}' is disabled (there is no 'on' "
                             "modifier in the user description). Make sure this is not a "
                             "configuration error.")
        self.refresh_restrictions()
        return notes

    def _fresh_default(self) -> User:
        user = User(b"default")
        for rule in (b"+@all", b"~*", b"&*", b"on", b"nopass"):
            user.apply(self.index, rule, False)
        return user

    def load_file(self, path: str) -> str | None:
        try:
            with open(path, "rb") as handle:
                lines = handle.read().split(b"\n")
        except OSError as exc:
            return f"Error loading ACLs, opening file '{path}': {exc.strerror}"
        return self.load_lines(lines, path)

    def save_file(self, path: str) -> bool:
        text = "".join(line + "\n" for line in self.config_lines())
        temp = f"{path}.tmp-{os.getpid()}"
        try:
            with open(temp, "w", encoding="utf-8", errors="surrogateescape") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except OSError:
            return False
        return True


def _text(value: bytes) -> str:
    return value.decode("utf-8", "surrogateescape")
