"""The SSRF guard: which addresses callbacks and webhooks may reach.

A callback URL is supplied by a customer, and the service runs inside someone's network, so a
URL that resolves to the loopback interface, a private network or a cloud metadata endpoint would
let any account probe or attack what sits behind the firewall. URLs are checked twice: their
shape when accepted (:func:`validate_callback_url`), and the addresses their host resolves to
right before each delivery (:func:`resolve_target`). The delivery then connects to the address
that was checked, so a DNS answer that changes between the check and the connection (DNS
rebinding) cannot slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from tidings.config import Settings
from tidings.events.errors import InvalidCallbackUrl, RefusedTarget

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses it resolves to (strings, as getaddrinfo gives them).
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

MAX_URL_LENGTH = 2048

# Cloud instance metadata services: AWS/GCP/Azure/OpenStack, AWS over IPv6, Alibaba.
_METADATA = frozenset(
    ipaddress.ip_address(address)
    for address in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
# RFC 1918 private networks, RFC 6598 shared address space (carrier-grade NAT), RFC 4193 unique
# local IPv6 addresses: the networks TIDINGS_WEBHOOK_ALLOW_PRIVATE opens.
_PRIVATE = tuple(
    ipaddress.ip_network(network)
    for network in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
# RFC 1122 §3.2.1.3: 0.0.0.0/8 means "this host" and reaches local services on Linux.
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    """Which non-public addresses a deployment lets callbacks reach."""

    allow_loopback: bool = False
    allow_private: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> TargetPolicy:
        return cls(
            allow_loopback=settings.webhook_allow_loopback,
            allow_private=settings.webhook_allow_private,
        )


def refusal_reason(address: IPAddress, policy: TargetPolicy) -> str | None:
    """Why ``address`` may not be a callback target under ``policy``, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # ::ffff:127.0.0.1 reaches 127.0.0.1; judge the IPv4 address it carries.
        address = address.ipv4_mapped
    if address in _METADATA:
        return "a cloud metadata address"
    if address.is_unspecified or address in _THIS_NETWORK:
        return "an unspecified address"
    if address.is_loopback:
        return None if policy.allow_loopback else "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if any(address in network for network in _PRIVATE):
        return None if policy.allow_private else "a private address"
    if not address.is_global:
        return "a reserved address"
    return None


# The refusals a setting lifts, and that setting: a refusal names it, so that a developer
# whose receiver runs on this machine knows what to set.
_ALLOWED_BY = {
    "a loopback address": "TIDINGS_WEBHOOK_ALLOW_LOOPBACK",
    "a private address": "TIDINGS_WEBHOOK_ALLOW_PRIVATE",
}


def _how_to_allow(reason: str) -> str:
    variable = _ALLOWED_BY.get(reason)
    return f"; set {variable}=true on the service to allow it" if variable else ""


def _split(url: str) -> SplitResult:
    if not isinstance(url, str) or not url:
        raise InvalidCallbackUrl("The callback URL is empty.")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidCallbackUrl(f"The callback URL is longer than {MAX_URL_LENGTH} characters.")
    if any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F for char in url):
        raise InvalidCallbackUrl("The callback URL contains whitespace or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise InvalidCallbackUrl(f"The callback URL is malformed: {error}.") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidCallbackUrl("The callback URL must use http or https.")
    if not parts.hostname:
        raise InvalidCallbackUrl("The callback URL has no host.")
    if port == 0:
        raise InvalidCallbackUrl("The callback URL has port 0.")
    return parts


# Names that mean this host without asking DNS: RFC 6761 §6.3 (localhost and every name under
# it), and the aliases Debian's /etc/hosts gives the loopback addresses.
_LOOPBACK_NAMES = frozenset(("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"))
# What an IPv4 address may be written with in the C library's inet_aton forms.
_INET_ATON_CHARACTERS = frozenset("0123456789abcdefxABCDEFX.")


def _literal_address(host: str) -> IPAddress | None:
    """The address ``host`` is written as, in any spelling the resolver reads as an address.

    Besides dotted quads and IPv6, getaddrinfo takes the inet_aton forms: fewer parts (``127.1``),
    one 32-bit number (``2130706433``, ``0x7f000001``), octal parts (``0177.0.0.1``), ``0``.
    """
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host[:1].isdigit() and set(host) <= _INET_ATON_CHARACTERS:
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _loopback_name(host: str) -> bool:
    name = host.rstrip(".").lower()
    return name in _LOOPBACK_NAMES or name.endswith(".localhost")


def validate_callback_url(url: str, policy: TargetPolicy | None = None) -> str:
    """Check a callback URL when it is accepted; return it without its fragment.

    Raises :class:`InvalidCallbackUrl` for anything but an absolute http(s) URL with a host.
    With a ``policy``, a host written as an IP address (in any spelling the resolver reads as
    one) or as a name of this host (``localhost``) is also checked against it now, so the user
    learns at once instead of at delivery. Other names are resolved only at delivery: accepting
    does not depend on DNS.
    """
    parts = _split(url)
    if policy is not None:
        host = parts.hostname or ""
        address = _literal_address(host)
        if address is None and _loopback_name(host):
            address = ipaddress.IPv4Address("127.0.0.1")
        if address is not None:
            reason = refusal_reason(address, policy)
            if reason is not None:
                raise InvalidCallbackUrl(
                    f"The callback URL's host is {reason}{_how_to_allow(reason)}."
                )
    return parts._replace(fragment="").geturl()


async def getaddrinfo_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True, slots=True)
class ResolvedTarget:
    host: str
    port: int
    address: str


async def resolve_target(
    url: str, policy: TargetPolicy, resolver: Resolver = getaddrinfo_resolver
) -> ResolvedTarget:
    """Resolve ``url``'s host and pick the address to connect to.

    Raises :class:`RefusedTarget` if the URL is invalid or any address the host resolves to is
    refused (a name that resolves to both a public and a private address is a rebinding trick,
    not a reason to pick the public one). Resolution failures (``OSError``) propagate: they are
    temporary and the delivery is retried.
    """
    try:
        parts = _split(url)
    except InvalidCallbackUrl as error:
        raise RefusedTarget(error.message) from None
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    literal = _literal_address(host)
    addresses = [str(literal)] if literal is not None else list(await resolver(host, port))
    if not addresses:
        raise OSError(f"{host} resolved to no address")
    for address in addresses:
        # getaddrinfo may append a zone to IPv6 link-local addresses (fe80::1%eth0).
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
        reason = refusal_reason(parsed, policy)
        if reason is not None:
            raise RefusedTarget(
                f"Refused target {host}: it resolves to {reason} ({parsed}){_how_to_allow(reason)}."
            )
    return ResolvedTarget(host=host, port=port, address=addresses[0].split("%", 1)[0])
