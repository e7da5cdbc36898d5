"""``tidings connectors export``: Power Automate custom-connector definitions for the dialects."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer


def _clicksend(netloc: str, scheme: str) -> dict[str, Any]:
    from tidings.api.dialects.clicksend.connector import connector_definition

    return connector_definition(netloc, scheme=scheme)


def _smartdialog(netloc: str, scheme: str) -> dict[str, Any]:
    from tidings.api.dialects.smartdialog.export import export_definition

    return export_definition(f"{scheme}://{netloc}")


def _truedialog(netloc: str, scheme: str) -> dict[str, Any]:
    from tidings.api.dialects.truedialog.connector import export_definition

    return export_definition(f"{scheme}://{netloc}")


# One line per dialect: its name and the function building its definition for a host. The
# dialect's modules are imported only when its definition is written.
DEFINITIONS: Mapping[str, Callable[[str, str], dict[str, Any]]] = MappingProxyType(
    {"clicksend": _clicksend, "smartdialog": _smartdialog, "truedialog": _truedialog}
)

app = typer.Typer(
    help="Power Automate custom connectors for the provider dialects.", no_args_is_help=True
)


def _split_host(value: str) -> tuple[str, str]:
    """``https://api.example.com:8443/`` or ``api.example.com:8443`` → (host, scheme)."""
    text = value.strip()
    parts = urlsplit(text if "://" in text else f"https://{text}")
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise typer.BadParameter(
            "give a host name, optionally with scheme and port", param_hint="--host"
        )
    return parts.netloc, parts.scheme


@app.command("export")
def export(
    dialect: Annotated[str, typer.Option(help=f"one of: {', '.join(DEFINITIONS)}")],
    host: Annotated[str, typer.Option(help="where the connector calls tidings: host[:port]")],
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="write here instead of stdout")
    ] = None,
) -> None:
    """Write the Swagger 2.0 connector definition of a dialect, pointing at HOST."""
    build = DEFINITIONS.get(dialect)
    if build is None:
        raise typer.BadParameter(
            f"unknown dialect {dialect!r}; known: {', '.join(DEFINITIONS)}", param_hint="--dialect"
        )
    netloc, scheme = _split_host(host)
    text = json.dumps(build(netloc, scheme), indent=2, ensure_ascii=False) + "\n"
    if file is None:
        typer.echo(text, nl=False)
    else:
        file.write_text(text, encoding="utf-8")
