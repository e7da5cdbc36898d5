"""The ClickSend v3 dialect, under ``/v3``: ClickSend's requests, envelope and ids over core."""

from tidings.api.dialects.clicksend.router import router

__all__ = ["router"]
