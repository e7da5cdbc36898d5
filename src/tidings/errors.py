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


# Domain errors: raised in core, mapped to answers by each API surface in one place.


class NotFound(TidingsError):
    """Not found."""


class Unauthorized(TidingsError):
    """Missing or invalid API credentials."""


class Forbidden(TidingsError):
    """This account may not do that."""


class OperatorOnly(Forbidden):
    """Only an operator may do that."""


class AccountSuspended(Forbidden):
    """This account is suspended."""


class Conflict(TidingsError):
    """That conflicts with the current state."""


class AlreadyExists(Conflict):
    """That already exists."""


class NotCancellable(Conflict):
    """Only a scheduled or queued message can be cancelled."""


class RouteInUse(Conflict):
    """The route is the default route or senders still use it."""


class InvalidRequest(TidingsError):
    """The request is not valid."""

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class UnregisteredSender(InvalidRequest):
    """This account may only send from its registered senders."""


class CarrierUnavailable(TidingsError):
    """The carrier's API could not be reached; nothing was changed, try again."""


class RateLimited(TidingsError):
    """Too many requests; slow down."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many requests; retry in {retry_after} s.")
        self.retry_after = retry_after


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
