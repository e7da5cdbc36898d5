"""The settings of a route, as its transport declares them.

Each transport (``dispatch.transport.Transport``) names a pydantic model derived from
:class:`TransportSettings`. A route's settings are checked by that model wherever they come
from (``/v1/routes``, the CLI, the TOML file), and stored in two JSON objects: the secrets
(every field typed ``SecretStr``: passwords, tokens) apart from the rest, so nothing that
shows a route can show a secret by mistake.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from tidings.errors import InvalidRequest
from tidings.media.convert import Target


class TransportSettings(BaseModel):
    """A route's transport-specific settings: immutable, no unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def secret_fields(cls) -> frozenset[str]:
        return _secret_fields(cls)

    @classmethod
    def checked(cls, values: Mapping[str, Any]) -> Self:
        """The settings from ``values``, or :class:`InvalidRequest` naming the first bad one
        (``settings.<name>``)."""
        try:
            return cls.model_validate(dict(values))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            field = f"settings.{where}" if where else "settings"
            message = _MESSAGES.get(first["type"], "{field}: {msg}")
            raise InvalidRequest(
                message.format(field=field, msg=first["msg"]), field=field
            ) from None

    @classmethod
    def from_stored(cls, settings: Mapping[str, Any], secrets: Mapping[str, Any]) -> Self:
        return cls.checked({**settings, **secrets})

    def stored(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(the settings that may be shown, the secrets), as JSON-ready objects."""
        secret = self.secret_fields()
        shown = self.model_dump(mode="json", exclude=set(secret))
        hidden = {}
        for name in secret:
            value = getattr(self, name)
            hidden[name] = value.get_secret_value() if isinstance(value, SecretStr) else value
        return shown, hidden

    def media_target(self) -> Target | None:
        """What a route of these settings takes of media files (types, the largest message),
        which files are converted to fit; None for a route that carries no media."""
        return None

    def media_limit(self) -> int | None:
        """The largest file, before conversion, a message over a route of these settings may
        name (uploaded or fetched); None for the server's ``TIDINGS_MEDIA_MAX_BYTES``."""
        return None

    def with_changes(self, changes: Mapping[str, Any]) -> Self:
        """These settings with ``changes`` applied (None resets a setting to its default),
        checked again as a whole."""
        shown, hidden = self.stored()
        merged = {**shown, **hidden, **changes}
        return self.checked({k: v for k, v in merged.items() if v is not None})


class RequestSettings(TransportSettings):
    """The settings of a route whose carrier takes each message in one request of its own
    (MM7 over HTTP, a fax by SMTP, a print job by IPP): how many may be under way at once."""

    concurrency: int = Field(default=4, ge=1, le=256, description="hand-overs under way at once")


_MESSAGES = {
    "missing": "{field} is required",
    "extra_forbidden": "{field} is not a setting of this kind of route",
}


@cache
def _secret_fields(model: type[TransportSettings]) -> frozenset[str]:
    return frozenset(
        name for name, field in model.model_fields.items() if _is_secret(field.annotation)
    )


def _is_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return any(_is_secret(arg) for arg in typing.get_args(annotation))
    return False
