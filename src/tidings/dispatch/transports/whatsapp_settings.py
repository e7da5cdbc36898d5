"""The settings of a WhatsApp Cloud API route (a WhatsApp Business Account's phone number)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from tidings.core.transport_settings import RequestSettings

META_GRAPH_URL = "https://graph.facebook.com"


class WhatsAppCloudSettings(RequestSettings):
    base_url: str = Field(
        default=META_GRAPH_URL,
        min_length=8,
        max_length=2000,
        description="the Graph API's base URL (Meta's, or the simulator's under make run)",
    )
    api_version: str = Field(default="v21.0", pattern=r"^v\d+\.\d+$", description="e.g. v21.0")
    waba_id: str = Field(
        min_length=1, max_length=64, pattern=r"^\d+$", description="WhatsApp Business Account id"
    )
    phone_number_id: str = Field(
        min_length=1, max_length=64, pattern=r"^\d+$", description="the business number's id"
    )
    # Media-header templates' examples are uploaded to the app (the Resumable Upload API,
    # POST /{app-id}/uploads) before the template is submitted; without it none can be.
    app_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^\d+$",
        description="the Meta app's id (needed for templates with an image, video or "
        "document header)",
    )
    access_token: SecretStr = Field(min_length=1, max_length=1000, description="a system token")
    # Meta signs every webhook with it (X-Hub-Signature-256); without it none is taken.
    app_secret: SecretStr = Field(min_length=1, max_length=200, description="the app's secret")
    verify_token: SecretStr = Field(
        min_length=1, max_length=200, description="the token of the webhook's handshake"
    )
    concurrency: int = Field(default=16, ge=1, le=256, description="sends under way at once")
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
