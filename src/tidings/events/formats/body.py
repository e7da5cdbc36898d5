"""A rendered webhook body and its content type."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RenderedBody:
    body: str
    content_type: str = "application/json"
