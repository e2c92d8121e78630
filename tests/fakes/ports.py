"""A free TCP port on 127.0.0.1, for servers the tests start (and for "nothing listens here")."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def taken_port() -> Iterator[int]:
    """A port on 127.0.0.1 something already listens on, for "address already in use"."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])
