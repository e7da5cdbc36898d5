"""Errors of the events outbox and webhook delivery."""

from __future__ import annotations

from tidings.errors import InvalidRequest, TidingsError


class InvalidCallbackUrl(InvalidRequest):
    """The callback URL must be an absolute http or https URL with a host."""


class InvalidWebhookSecret(InvalidRequest):
    """A webhook secret must be ``whsec_`` followed by 24 to 64 bytes in base64."""


class RefusedTarget(TidingsError):
    """The callback target resolves to an address that webhooks may not reach."""
