"""The HTTP API: the native v1 surface, authentication, problem details and operations."""

from __future__ import annotations

from tidings.api.app import create_app

__all__ = ["create_app"]
