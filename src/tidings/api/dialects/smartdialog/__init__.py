"""The SmartDialog v1 dialect (Arena Interactive), for its customers' code and Power Automate.

Mounted under ``/api-integrations/v1``; its OAuth2 authorization server answers at
``/oauth2/authorize`` and ``/oauth2/token``. Customers are accounts (the key's and its
sub-accounts); services are :mod:`tidings.core.services`.
"""

from __future__ import annotations

from tidings.api.dialects.smartdialog.export import export_definition
from tidings.api.dialects.smartdialog.oauth import build_router as build_oauth_router
from tidings.api.dialects.smartdialog.router import build_router

__all__ = ["build_oauth_router", "build_router", "export_definition"]
