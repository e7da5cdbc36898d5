"""Where the CLI finds the service and the API secret to call it with.

The service's URL comes from, first to last: ``--url``, ``TIDINGS_URL``, the default service
saved in the user's credentials file, ``http://127.0.0.1:$TIDINGS_HTTP_PORT`` (8080 unless
set). The secret comes from ``TIDINGS_API_SECRET``, or the credentials file's entry for that
URL.

The credentials file is ``<user config dir>/tidings/credentials.toml`` (``~/.config`` on Linux,
``$XDG_CONFIG_HOME`` when set), mode 0600. ``tidings login`` writes an entry for a URL and makes
it the default; ``tidings serve`` writes the demo account's entry for its own URL, and makes it
the default unless someone signed in to another service.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import typer

from tidings.cli.exits import CliError, ExitCode

CREDENTIALS_FILE = "credentials.toml"
DEFAULT_HTTP_PORT = 8080

URL_HELP = "the service's URL [env var: TIDINGS_URL; default: the one `tidings login` saved]"


class WrittenBy(StrEnum):
    LOGIN = "login"
    # The demo account of a local `tidings serve` (`make run`).
    SERVE = "serve"


@dataclass(frozen=True, slots=True)
class SavedService:
    """One entry of the credentials file."""

    url: str
    secret: str
    key_id: str | None = None
    account_id: str | None = None
    written_by: WrittenBy = WrittenBy.LOGIN


@dataclass(frozen=True, slots=True)
class Target:
    """The service a command talks to, and where each half of that came from (for hints)."""

    url: str
    url_from: str
    secret: str | None
    secret_from: str | None


def credentials_path() -> Path:
    return Path(typer.get_app_dir("tidings")) / CREDENTIALS_FILE


def normalise_url(url: str) -> str:
    text = url.strip().rstrip("/")
    if "://" not in text:
        text = f"http://{text}"
    return text


@dataclass(frozen=True, slots=True)
class CredentialsFile:
    default: str | None
    services: dict[str, SavedService]


def read_credentials(path: Path | None = None) -> CredentialsFile:
    path = path or credentials_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return CredentialsFile(None, {})
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise CliError(
            f"Cannot read {path}: {error}.",
            hint="fix or remove the file, then sign in again with `tidings login`",
        ) from None
    services: dict[str, SavedService] = {}
    for url, entry in (data.get("services") or {}).items():
        if not isinstance(entry, dict) or not isinstance(entry.get("secret"), str):
            continue
        written_by = entry.get("written_by", WrittenBy.LOGIN)
        services[url] = SavedService(
            url=url,
            secret=entry["secret"],
            key_id=entry.get("key_id"),
            account_id=entry.get("account_id"),
            written_by=WrittenBy.SERVE if written_by == WrittenBy.SERVE else WrittenBy.LOGIN,
        )
    default = data.get("default")
    return CredentialsFile(default if isinstance(default, str) else None, services)


def _toml_string(value: str) -> str:
    # A JSON string is a valid TOML basic string (same quotes and escapes).
    return json.dumps(value, ensure_ascii=False)


def write_credentials(saved: CredentialsFile, path: Path | None = None) -> Path:
    """Replace the file at once (a reader never sees half of it), readable by its owner only."""
    path = path or credentials_path()
    lines = [
        "# tidings CLI credentials, written by `tidings login` and `tidings serve`.",
        "# Keep this file private (mode 0600).",
    ]
    if saved.default is not None:
        lines.append(f"default = {_toml_string(saved.default)}")
    for url, entry in saved.services.items():
        lines += ["", f"[services.{_toml_string(url)}]", f"secret = {_toml_string(entry.secret)}"]
        if entry.key_id is not None:
            lines.append(f"key_id = {_toml_string(entry.key_id)}")
        if entry.account_id is not None:
            lines.append(f"account_id = {_toml_string(entry.account_id)}")
        lines.append(f"written_by = {_toml_string(entry.written_by.value)}")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write("\n".join(lines) + "\n")
        os.chmod(temporary, 0o600)  # O_CREAT's mode is only used for a new file
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def save_login(entry: SavedService) -> Path:
    """Save ``entry`` and make its URL the default service."""
    saved = read_credentials()
    services = dict(saved.services)
    services[entry.url] = entry
    return write_credentials(CredentialsFile(entry.url, services))


def save_demo(entry: SavedService) -> bool:
    """Save the demo account of a local ``tidings serve``. It becomes the default service unless
    the default is one someone signed in to; a service signed in to is never overwritten.
    Returns whether the entry's URL is the default now."""
    saved = read_credentials()
    current = saved.services.get(entry.url)
    if current is not None and current.written_by is WrittenBy.LOGIN:
        return saved.default == entry.url
    default_entry = saved.services.get(saved.default) if saved.default else None
    take_default = default_entry is None or default_entry.written_by is WrittenBy.SERVE
    services = dict(saved.services)
    services[entry.url] = entry
    write_credentials(CredentialsFile(entry.url if take_default else saved.default, services))
    return take_default


def forget(url: str) -> bool:
    """Remove a URL's entry; returns whether there was one."""
    saved = read_credentials()
    if url not in saved.services:
        return False
    services = {k: v for k, v in saved.services.items() if k != url}
    default = saved.default if saved.default != url else next(iter(services), None)
    write_credentials(CredentialsFile(default, services))
    return True


def _local_default_url() -> tuple[str, str]:
    port = os.environ.get("TIDINGS_HTTP_PORT", "").strip()
    if port:
        return f"http://127.0.0.1:{port}", "TIDINGS_HTTP_PORT"
    return f"http://127.0.0.1:{DEFAULT_HTTP_PORT}", "the default"


def find_target(url: str | None) -> Target:
    """The service to call and the secret to call it with (``secret`` None when none is known)."""
    saved = read_credentials()
    where = str(credentials_path())
    if url:
        resolved, url_from = normalise_url(url), "--url"
    elif os.environ.get("TIDINGS_URL", "").strip():
        resolved, url_from = normalise_url(os.environ["TIDINGS_URL"]), "TIDINGS_URL"
    elif saved.default is not None:
        resolved, url_from = saved.default, where
    else:
        resolved, url_from = _local_default_url()
    secret = os.environ.get("TIDINGS_API_SECRET", "").strip()
    if secret:
        return Target(resolved, url_from, secret, "TIDINGS_API_SECRET")
    entry = saved.services.get(resolved)
    if entry is not None:
        return Target(resolved, url_from, entry.secret, where)
    return Target(resolved, url_from, None, None)


def require_secret(target: Target) -> str:
    if target.secret is None:
        raise CliError(
            f"No API secret for {target.url}.",
            hint="sign in with `tidings login`, or set TIDINGS_API_SECRET "
            "(`make run` saves the demo account's)",
            code=ExitCode.AUTH,
        )
    return target.secret
