"""One client's CLIENT TRACKING settings (``Client.tracking``; None while off)."""

from __future__ import annotations


class ClientTracking:
    """A tracking client's settings (``Client.tracking``); None when tracking is off."""

    __slots__ = ("redirect", "bcast", "optin", "optout", "noloop", "caching",
                 "broken_redirect", "prefixes")

    def __init__(self) -> None:
        self.redirect = 0  # the client id invalidations go to; 0: this client
        self.bcast = False
        self.optin = False
        self.optout = False
        self.noloop = False  # no invalidations for keys this client wrote itself
        # CLIENT CACHING yes/no: the next command (or transaction) opts in/out.
        self.caching = False
        # The REDIRECT client went away (CLIENT LIST flag R).
        self.broken_redirect = False
        self.prefixes: set[bytes] = set()  # BCAST prefixes

    def flag_letters(self) -> str:
        """CLIENT LIST flags, in Redis's order."""
        return "t" + ("R" if self.broken_redirect else "") + ("B" if self.bcast else "")

    def info_flags(self) -> list[bytes]:
        """CLIENT TRACKINGINFO's flags while tracking."""
        flags = [b"on"]
        if self.bcast:
            flags.append(b"bcast")
        if self.optin:
            flags.append(b"optin")
            if self.caching:
                flags.append(b"caching-yes")
        if self.optout:
            flags.append(b"optout")
            if self.caching:
                flags.append(b"caching-no")
        if self.noloop:
            flags.append(b"noloop")
        if self.broken_redirect:
            flags.append(b"broken_redirect")
        return flags
