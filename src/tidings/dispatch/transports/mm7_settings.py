"""The settings of an MM7 route (tidings as the VASP of an MMSC, 3GPP TS 23.140)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from tidings.core.transport_settings import RequestSettings
from tidings.media.convert import DEFAULT_MAX_BYTES, MMS_CONTENT_TYPES, Target

# TS 23.140 sets no length; 40 characters is what handsets show and operators take (OMA MMS
# conformance document: subject of at most 40 characters).
MAX_SUBJECT = 40


class Mm7Settings(RequestSettings):
    url: str = Field(min_length=8, max_length=2000, description="the MMSC's MM7 URL")
    username: str | None = Field(default=None, max_length=200, description="HTTP Basic user")
    password: SecretStr | None = Field(
        default=None, max_length=200, description="HTTP Basic password"
    )
    vasp_id: str = Field(min_length=1, max_length=100, description="VASPID the MMSC gave us")
    vas_id: str | None = Field(default=None, max_length=100, description="VASID (the service)")
    service_code: str | None = Field(default=None, max_length=100, description="for charging")
    # Content over this is converted to fit (images recompressed and scaled, audio and video
    # re-encoded); what still does not fit is refused.
    max_message_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1024, le=10 * 1024 * 1024)
    content_types: tuple[str, ...] = Field(default=tuple(sorted(MMS_CONTENT_TYPES)), min_length=1)
    # The largest file a message over this route may name, before conversion: a file named by
    # URL is given up past it, an uploaded one refused (413). Unset: TIDINGS_MEDIA_MAX_BYTES.
    max_media_bytes: int | None = Field(default=None, ge=1024, le=100 * 1024 * 1024)
    delivery_report: bool = True
    concurrency: int = Field(default=8, ge=1, le=256, description="SubmitReqs under way at once")
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    # The MMSC calls /carriers/mm7/<route name> with these credentials (reports, inbound MMS).
    inbound_username: str | None = Field(default=None, max_length=200)
    inbound_password: SecretStr | None = Field(default=None, max_length=200)

    def media_target(self) -> Target:
        return Target(self.max_message_bytes, frozenset(self.content_types))

    def media_limit(self) -> int | None:
        return self.max_media_bytes
