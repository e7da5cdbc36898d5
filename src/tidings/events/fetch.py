"""GET a file from a URL a customer gave (a CSV to import), under the same target policy as
callbacks: the host is resolved and checked first, and the connection goes to the checked
address so a second DNS answer cannot point it elsewhere."""

from __future__ import annotations

import httpx

from tidings.errors import InvalidRequest
from tidings.events.errors import RefusedTarget
from tidings.events.ssrf import Resolver, TargetPolicy, getaddrinfo_resolver, resolve_target


class FetchFailed(InvalidRequest):
    """The file could not be fetched."""


class FetchTooLarge(FetchFailed):
    """The file is larger than the caller takes (the download was given up there)."""


async def fetch_file(
    url: str,
    policy: TargetPolicy,
    *,
    max_bytes: int,
    timeout: float = 30.0,
    resolver: Resolver = getaddrinfo_resolver,
) -> bytes:
    """The body of ``url`` (at most ``max_bytes``). Raises :class:`RefusedTarget` for a
    refused address and :class:`FetchFailed` for anything else that goes wrong."""
    try:
        target = await resolve_target(url, policy, resolver)
    except OSError as error:
        raise FetchFailed(f"cannot resolve the host of {url}: {error}") from None
    original = httpx.URL(url)
    extensions = {"sni_hostname": target.host} if original.scheme == "https" else {}
    headers = {"host": original.netloc.decode("ascii")}
    body = bytearray()
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            request = client.build_request(
                "GET",
                original.copy_with(host=target.address),
                headers=headers,
                extensions=extensions,
            )
            response = await client.send(request, stream=True)
            try:
                if response.status_code != 200:
                    raise FetchFailed(f"{url} answered HTTP {response.status_code}")
                async for chunk in response.aiter_bytes():
                    body.extend(chunk)
                    if len(body) > max_bytes:
                        raise FetchTooLarge(f"{url} is larger than {max_bytes} bytes")
            finally:
                await response.aclose()
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        raise FetchFailed(f"cannot fetch {url}: {type(error).__name__}") from None
    return bytes(body)


__all__ = ["FetchFailed", "FetchTooLarge", "RefusedTarget", "fetch_file"]
