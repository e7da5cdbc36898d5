"""How an API surface's error answers are documented in its OpenAPI document.

Each surface maps domain errors to answers in one place (``api/problems.py`` for ``/v1``, a
dialect's ``errors`` module); beside that mapping it states an ``ErrorShape``, which
``api/openapi.py`` writes into every operation of the surface's document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ErrorShape:
    """The media type and JSON Schema of a surface's error body, the status of a request that
    fails validation, and the description of each error status the surface answers."""

    media_type: str
    schema_name: str
    schema: Mapping[str, Any]
    validation_status: int
    descriptions: Mapping[int, str]
    headers: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    extra_schemas: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
