"""``tidings connectors export``: Power Automate custom-connector definitions for the dialects."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer

from tidings.api.dialects.clicksend.connector import connector_definition as clicksend_connector
from tidings.api.dialects.smartdialog.export import export_definition as smartdialog_connector
from tidings.api.dialects.truedialog.connector import export_definition as truedialog_connector


def _from_url(build: Callable[[str], dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """A builder that takes one ``scheme://host[:port]`` string, called like the others."""

    def from_parts(netloc: str, *, scheme: str = "https") -> dict[str, Any]:
        return build(f"{scheme}://{netloc}")

    return from_parts


# One line per dialect: its name and the function building its definition for a host.
DEFINITIONS: Mapping[str, Callable[..., dict[str, Any]]] = MappingProxyType(
    {
        "clicksend": clicksend_connector,
        "smartdialog": _from_url(smartdialog_connector),
        "truedialog": _from_url(truedialog_connector),
    }
)

app = typer.Typer(help="Power Automate custom connectors for the provider dialects.")


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
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write here instead of stdout")
    ] = None,
) -> None:
    """Write the Swagger 2.0 connector definition of a dialect, pointing at HOST."""
    build = DEFINITIONS.get(dialect)
    if build is None:
        raise typer.BadParameter(
            f"unknown dialect {dialect!r}; known: {', '.join(DEFINITIONS)}", param_hint="--dialect"
        )
    netloc, scheme = _split_host(host)
    text = json.dumps(build(netloc, scheme=scheme), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
