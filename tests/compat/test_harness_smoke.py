"""The differential harness itself: identical replies for the simplest commands."""


def test_ping_and_strings(differ) -> None:
    differ.check("PING")
    differ.check("PING", "hello")
    differ.run([("SET", "k", "v"), ("GET", "k"), ("GET", "missing"), ("INCR", "k")])
    differ.check("NOSUCHCOMMAND", "a", "b")
