"""The service fixtures (app, client, tenants) for the contacts and lists tests."""

from __future__ import annotations

from tests.integration.service.conftest import app, client, make_tenant, settings

__all__ = ["app", "client", "make_tenant", "settings"]
