"""Protected mode, as Redis 7.0's clientAcceptHandler applies it.

With ``protected-mode yes`` (the default) and a default user that needs no password,
a connection from anywhere but the loopback interface gets Redis's long ``-DENIED``
explanation and is closed. Redis 7.0 no longer looks at ``bind`` here (6.x did); a
unix socket and the peer addresses 127.0.0.1 and ::1 count as local, exactly those.
"""

from __future__ import annotations

from typing import Any

DENIED = (
    b"-DENIED Redis is running in protected mode because protected "
    b"mode is enabled and no password is set for the default user. "
    b"In this mode connections are only accepted from the loopback interface. "
    b"If you want to connect from external computers to Redis you "
    b"may adopt one of the following solutions: "
    b"1) Just disable protected mode sending the command "
    b"'CONFIG SET protected-mode no' from the loopback interface "
    b"by connecting to Redis from the same host the server is "
    b"running, however MAKE SURE Redis is not publicly accessible "
    b"from internet if you do so. Use CONFIG REWRITE to make this "
    b"change permanent. "
    b"2) Alternatively you can just disable the protected mode by "
    b"editing the Redis configuration file, and setting the protected "
    b"mode option to 'no', and then restarting the server. "
    b"3) If you started the server manually just for testing, restart "
    b"it with the '--protected-mode no' option. "
    b"4) Setup a an authentication password for the default user. "
    b"NOTE: You only need to do one of the above things in order for "
    b"the server to start accepting connections from the outside.\r\n"
)

LOOPBACK = ("127.0.0.1", "::1")


def default_user_nopass(instance: Any) -> bool:
    """The default user needs no password (ACL ``nopass``; else no requirepass)."""
    default = getattr(getattr(instance, "acl", None), "default", None)
    nopass = getattr(default, "nopass", None)
    if nopass is not None:
        return bool(nopass)
    return not instance.config.requirepass


def refuses(instance: Any, peer_host: str | None) -> bool:
    """Whether protected mode turns away a TCP client from ``peer_host``.

    ``peer_host`` is None for a unix-socket client, which is always local.
    """
    if peer_host is None or not instance.config.protected_mode:
        return False
    return peer_host not in LOOPBACK and default_user_nopass(instance)
