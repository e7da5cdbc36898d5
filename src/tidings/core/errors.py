"""Domain errors. Each API surface maps these classes to its answers in one place."""

from __future__ import annotations

from tidings.errors import TidingsError


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


class RateLimited(TidingsError):
    """Too many requests; slow down."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many requests; retry in {retry_after} s.")
        self.retry_after = retry_after
