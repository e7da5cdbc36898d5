"""Service settings, read once from ``TIDINGS_*`` environment variables and passed explicitly."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Role(StrEnum):
    """Which halves of the service a process runs (``tidings serve --role``)."""

    API = "api"
    DISPATCHER = "dispatcher"
    ALL = "all"


class Settings(BaseSettings):
    """Everything the service reads from its environment.

    Build one instance at process start (``Settings()``) and pass it down; nothing reads the
    environment again.
    """

    model_config = SettingsConfigDict(env_prefix="TIDINGS_", extra="ignore")

    data_dir: Path = Path("./var")
    # Empty means: SQLite at <data_dir>/tidings.db (filled in by the validator below).
    database_url: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    simulator: bool = True
    simulator_port: int = Field(default=2775, ge=0, le=65535)
    simulator_control_port: int = Field(default=2776, ge=0, le=65535)
    redis_url: str | None = None
    webhook_allow_loopback: bool = False
    # A ``limits`` rate string; accounts may override it.
    rate_limit: str = "100/60 seconds"
    # 10,000 recipients with personalisation fit comfortably in 5 MiB.
    max_body_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    role: Role = Role.ALL
    # Preview pricing: price = parts × price_per_part.
    price_per_part: Decimal = Decimal("0.05")
    currency: str = "EUR"
    # Verified API secrets are remembered this long, so scrypt runs once per key, not per request.
    auth_cache_seconds: float = Field(default=60.0, ge=0)
    # How long a request_id / Idempotency-Key replays its first answer.
    idempotency_days: int = Field(default=7, gt=0)
    # Region for reading local numbers when an account is created without one.
    default_region: str = "FI"
    max_recipients: int = Field(default=10_000, gt=0)
    default_max_parts: int = Field(default=10, ge=1, le=255)

    @model_validator(mode="after")
    def _default_database_url(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'tidings.db'}"
        return self
