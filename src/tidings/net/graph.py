"""The Cloud API over HTTP: Meta's Graph API (or the embedded simulator at its own base URL).

:class:`GraphClient` carries what ``tidings.whatsapp`` builds and reads: sends, media uploads,
template submissions, listings and deletions. A refusal is a :class:`GraphApiError` with the
Graph error as Meta wrote it; no answer, or one that is not the API's, is
:class:`GraphUnreachable`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from tidings.errors import TidingsError
from tidings.whatsapp.errors import GraphError, RemoteProtocolError, read_error
from tidings.whatsapp.messages import read_answer

__all__ = ["GraphApiError", "GraphClient", "GraphUnreachable"]

# A listing is followed page by page up to this many templates.
MAX_TEMPLATES = 5000


class GraphUnreachable(TidingsError):
    """The Graph API did not answer, or answered something that is not the API."""


class GraphApiError(TidingsError):
    """The Graph API refused the request."""

    def __init__(self, http_status: int, error: GraphError) -> None:
        super().__init__(f"Graph API error {error.summary} (HTTP {http_status})")
        self.http_status = http_status
        self.error = error


class GraphClient:
    """One access token's requests to one Graph API base URL and version."""

    def __init__(
        self,
        base_url: str,
        version: str,
        access_token: str,
        *,
        timeout: float = 30.0,
        max_connections: int = 16,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.version = version
        self._http = httpx.AsyncClient(
            base_url=f"{self.base_url}/{version}",
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=timeout,
            limits=httpx.Limits(max_connections=max_connections),
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise GraphUnreachable(
                f"{self.base_url}: {type(error).__name__}: {error}".rstrip(": ")
            ) from error
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            refusal = read_error(body)
            if refusal is None:
                raise GraphUnreachable(
                    f"{self.base_url} answered HTTP {response.status_code} without a Graph error"
                )
            raise GraphApiError(response.status_code, refusal)
        if body is None:
            raise GraphUnreachable(
                f"{self.base_url} answered HTTP {response.status_code}, not JSON"
            )
        return body

    async def send_message(self, phone_number_id: str, payload: Mapping[str, Any]) -> str:
        """``POST /{phone-number-id}/messages``; the wamid of the message."""
        body = await self._call("POST", f"/{quote(phone_number_id)}/messages", json=payload)
        try:
            return read_answer(body)
        except RemoteProtocolError as error:
            raise GraphUnreachable(f"{self.base_url}: {error.message}") from None

    async def upload_media(
        self, phone_number_id: str, data: bytes, content_type: str, filename: str
    ) -> str:
        """``POST /{phone-number-id}/media`` (multipart); the media id to send by."""
        body = await self._call(
            "POST",
            f"/{quote(phone_number_id)}/media",
            data={"messaging_product": "whatsapp", "type": content_type},
            files={"file": (filename, data, content_type)},
        )
        media_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(media_id, str) or not media_id:
            raise GraphUnreachable(f"{self.base_url}: the upload's answer names no media id")
        return media_id

    async def media_url(self, media_id: str) -> tuple[str, str]:
        """``GET /{media-id}``: where a user's file can be downloaded, and its type."""
        body = await self._call("GET", f"/{quote(media_id)}")
        url = body.get("url") if isinstance(body, dict) else None
        if not isinstance(url, str):
            raise GraphUnreachable(f"{self.base_url}: the media {media_id} has no URL")
        return url, str(body.get("mime_type") or "application/octet-stream")

    async def download(self, url: str, *, max_bytes: int) -> bytes:
        """A user's file, from the URL :meth:`media_url` gave (with the access token)."""
        try:
            async with self._http.stream("GET", url) as response:
                if response.status_code != 200:
                    raise GraphUnreachable(f"{url} answered HTTP {response.status_code}")
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data.extend(chunk)
                    if len(data) > max_bytes:
                        raise GraphUnreachable(f"{url} is over {max_bytes} bytes")
                return bytes(data)
        except httpx.HTTPError as error:
            raise GraphUnreachable(f"{url}: {type(error).__name__}: {error}") from error

    async def upload_example(self, app_id: str, data: bytes, content_type: str) -> str:
        """The Resumable Upload API (``POST /{app-id}/uploads``, then the bytes to the upload
        session): the handle a media header's example is submitted with."""
        session = await self._call(
            "POST",
            f"/{quote(app_id)}/uploads",
            params={"file_length": str(len(data)), "file_type": content_type},
        )
        upload_id = session.get("id") if isinstance(session, dict) else None
        if not isinstance(upload_id, str):
            raise GraphUnreachable(f"{self.base_url}: the upload session has no id")
        done = await self._call(
            "POST",
            f"/{quote(upload_id, safe=':')}",
            content=data,
            headers={"file_offset": "0", "Content-Type": content_type},
        )
        handle = done.get("h") if isinstance(done, dict) else None
        if not isinstance(handle, str):
            raise GraphUnreachable(f"{self.base_url}: the upload gave no handle")
        return handle

    async def submit_template(self, waba_id: str, submission: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /{waba-id}/message_templates``: ``{"id", "status", "category"}``."""
        body = await self._call("POST", f"/{quote(waba_id)}/message_templates", json=submission)
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise GraphUnreachable(f"{self.base_url}: the submission's answer has no id")
        return body

    async def list_templates(self, waba_id: str) -> list[dict[str, Any]]:
        """Every template of the WABA (``GET /{waba-id}/message_templates``, page by page)."""
        found: list[dict[str, Any]] = []
        params: dict[str, str] = {"limit": "100"}
        while len(found) < MAX_TEMPLATES:
            body = await self._call("GET", f"/{quote(waba_id)}/message_templates", params=params)
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, list):
                raise GraphUnreachable(f"{self.base_url}: the template list has no data")
            found.extend(item for item in data if isinstance(item, dict))
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not data or not paging.get("next") or not after:
                break
            params = {"limit": "100", "after": str(after)}
        return found

    async def delete_template(
        self, waba_id: str, name: str, *, template_id: str | None = None
    ) -> None:
        """``DELETE /{waba-id}/message_templates?name=`` (every language of the name), or one
        language of it with its id (``hsm_id``)."""
        params = {"name": name} if template_id is None else {"name": name, "hsm_id": template_id}
        await self._call("DELETE", f"/{quote(waba_id)}/message_templates", params=params)
