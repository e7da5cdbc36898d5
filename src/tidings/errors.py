"""One exception root for the whole package.

Each class's docstring is its default message, so raising ``NotFound()`` reads well and the
HTTP/CLI layers can map classes to answers in one place.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager


class TidingsError(Exception):
    """Something went wrong in tidings."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or type(self).__name__).strip())

    @property
    def message(self) -> str:
        return str(self.args[0])


class PortUnavailable(TidingsError):
    """A port to listen on is in use or not allowed."""

    def __init__(self, listener: str, host: str, port: int, error: OSError) -> None:
        self.listener = listener
        self.host = host
        self.port = port
        self.reason = _LISTEN_REASONS.get(error.errno or 0) or (error.strerror or str(error))
        super().__init__(f"The {listener} cannot listen on {host}:{port}: {self.reason}.")


_LISTEN_REASONS = {
    errno.EADDRINUSE: "the port is in use",
    errno.EACCES: "permission denied (ports below 1024 need privileges)",
    errno.EADDRNOTAVAIL: "this machine has no such address",
}


@contextmanager
def listening(listener: str, host: str, port: int) -> Iterator[None]:
    """Turn a failure to bind ``host:port`` into ``PortUnavailable`` naming ``listener``."""
    try:
        yield
    except OSError as error:
        # Some event loops (uvloop) raise their own OSError without an errno, caused by the
        # system's.
        cause = error if error.errno is not None else error.__cause__
        if not isinstance(cause, OSError) or cause.errno not in _BIND_ERRORS:
            raise
        raise PortUnavailable(listener, host, port, cause) from error


_BIND_ERRORS = frozenset({errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL})
