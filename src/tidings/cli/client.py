"""The CLI's HTTP client for the running service's ``/v1`` API.

Built on the standard library's ``http.client`` on purpose: a command that talks to the service
should start in a fraction of a second, and importing httpx (with its transports) costs about
as much as the rest of such a command. The CLI needs one connection, JSON in and out, and
problem+json errors turned into sentences; nothing more.
"""

from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass
from types import TracebackType
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

import typer

from tidings import __version__
from tidings.cli.credentials import URL_HELP, Target, find_target, require_secret
from tidings.cli.exits import CliError, ExitCode

DEFAULT_TIMEOUT_S = 15.0

# Every command that talks to the service takes these.
UrlOption = Annotated[str | None, typer.Option("--url", help=URL_HELP, show_default=False)]
AccountOption = Annotated[
    str | None,
    typer.Option("--account", help="act for this sub-account (default: the key's own account)"),
]

_REPEATABLE = frozenset({"GET", "HEAD", "DELETE"})
_EXIT_BY_STATUS = {401: ExitCode.AUTH, 403: ExitCode.AUTH, 404: ExitCode.NOT_FOUND}


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, str]
    data: Any


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def problem_message(status: int, reason: str, data: Any) -> str:
    """An error answer as sentences: the problem's detail, then each field's error."""
    if not isinstance(data, dict):
        return f"The service answered {status} {reason}."
    detail = data.get("detail") or data.get("title") or f"{status} {reason}"
    lines = [_sentence(str(detail))]
    for item in data.get("errors") or ():
        if not isinstance(item, dict):
            continue
        message = _sentence(str(item.get("message", "invalid")))
        path = item.get("path")
        if message.rstrip(".") == lines[0].rstrip("."):
            continue
        lines.append(f"  {path}: {message}" if path else f"  {message}")
    # A send none of whose recipients was accepted: why each was refused.
    for outcome in data.get("messages") or ():
        error = outcome.get("error") if isinstance(outcome, dict) else None
        if isinstance(error, dict):
            reason = error.get("detail") or str(error.get("code") or "refused").replace("_", " ")
            lines.append(f"  {outcome.get('to')}: {_sentence(str(reason))}")
    return "\n".join(lines)


class ServiceClient:
    """One keep-alive connection to the service, authenticated with the target's secret."""

    def __init__(self, target: Target, *, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.target = target
        self._secret = require_secret(target)
        parts = urlsplit(target.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise CliError(
                f"{target.url} is not an http(s) URL.",
                hint=f"it came from {target.url_from}",
                code=ExitCode.USAGE,
            )
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._base = parts.path.rstrip("/")
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            if self._https:
                self._connection = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self._timeout
                )
            else:
                self._connection = http.client.HTTPConnection(
                    self._host, self._port, timeout=self._timeout
                )
        return self._connection

    def _unreachable(self, error: OSError) -> CliError:
        if isinstance(error, TimeoutError | socket.timeout):
            reason = f"no answer within {self._timeout:g} s"
        else:
            reason = error.strerror or str(error) or type(error).__name__
        return CliError(
            f"Cannot reach the service at {self.target.url}: {reason}.",
            hint=f"is it running (`make run` or `tidings serve`)? The URL came from "
            f"{self.target.url_from}; give another with --url or TIDINGS_URL, "
            "or save one with `tidings login`",
            code=ExitCode.UNREACHABLE,
        )

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
    ) -> Answer:
        """Send one request; an error answer raises ``CliError`` with the problem's sentences."""
        query = {k: v for k, v in (params or {}).items() if v is not None and v != []}
        target = self._base + path + (f"?{urlencode(query, doseq=True)}" if query else "")
        headers = {
            "Authorization": f"Bearer {self._secret}",
            "Accept": "application/json",
            "User-Agent": f"tidings-cli/{__version__}",
        }
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            connection = self._connect()
            try:
                connection.request(method, target, body=payload, headers=headers)
                response = connection.getresponse()
                raw = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                # The server closed an idle keep-alive connection: open a new one, once, for a
                # request that may be repeated (a POST might have been acted on).
                self.close()
                if attempt == 2 or method not in _REPEATABLE:
                    raise self._unreachable(e) from None
            except OSError as error:
                self.close()
                raise self._unreachable(error) from None
        answer_headers = {k.lower(): v for k, v in response.getheaders()}
        data: Any = None
        if raw:
            try:
                data = json.loads(raw)
            except ValueError:
                data = raw.decode("utf-8", "replace")
        if response.status >= 400:
            raise CliError(
                problem_message(response.status, response.reason, data),
                hint=self._hint_for(response.status),
                code=_EXIT_BY_STATUS.get(response.status, ExitCode.ERROR),
            )
        return Answer(response.status, answer_headers, data)

    def _hint_for(self, status: int) -> str | None:
        if status != 401:
            return None
        refused = f"the secret from {self.target.secret_from} was refused by {self.target.url}"
        if self.target.secret_from == "TIDINGS_API_SECRET":
            # Telling someone whose variable is wrong to "set TIDINGS_API_SECRET" sends them
            # round in a circle: say to correct it, or to unset it for the saved secret.
            return (
                f"{refused}; correct it (a key's secret reads tdk_<key id>_...), or unset it to "
                "use the secret saved by `tidings login` or `make run`"
            )
        return (
            f"{refused}; sign in again with `tidings login`, or set TIDINGS_API_SECRET "
            "(`make run` on a new database makes a new demo key and saves it)"
        )

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params=params).data

    def post(self, path: str, body: Any = None, **params: Any) -> Any:
        return self.call("POST", path, params=params, body=body).data

    def patch(self, path: str, body: Any) -> Any:
        return self.call("PATCH", path, body=body).data

    def delete(self, path: str, **params: Any) -> Any:
        return self.call("DELETE", path, params=params).data


def connect(url: str | None, *, timeout: float = DEFAULT_TIMEOUT_S) -> ServiceClient:
    """A client for the service that ``--url``, the environment or the credentials file name."""
    return ServiceClient(find_target(url), timeout=timeout)
