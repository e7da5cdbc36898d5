"""The real print server the document interop tests print through."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.interop.harness import peer_unavailable


@pytest.fixture
async def cups() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as http:
        try:
            response = await http.get("http://127.0.0.1:631/printers/PDF")
        except httpx.HTTPError:
            peer_unavailable("CUPS is not running on 127.0.0.1:631 (.ci/run starts cupsd)")
        if response.status_code != 200:
            peer_unavailable("CUPS has no printer PDF (lpadmin -p PDF -v cups-pdf:/ ...)")
        yield http
