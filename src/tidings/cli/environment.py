"""The service's settings as a command reads them: ``TIDINGS_*`` variables, then the command's
own options on top, with a bad value said as a sentence naming its variable."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tidings.cli.exits import CliError, ExitCode

if TYPE_CHECKING:
    from tidings.config import Settings


def load_settings(**overrides: object) -> Settings:
    """``Settings()`` with the options that were given (None means not given)."""
    from pydantic import ValidationError

    from tidings.config import Settings

    values = {name: value for name, value in overrides.items() if value is not None}
    try:
        return Settings(**values)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = []
        for item in error.errors():
            field = ".".join(str(part) for part in item.get("loc", ()))
            name = f"TIDINGS_{field.upper()}" if field else "a setting"
            problems.append(f"{name}: {item.get('msg', 'invalid')}")
        raise CliError(
            "Invalid setting: " + "; ".join(problems) + ".", code=ExitCode.USAGE
        ) from None
