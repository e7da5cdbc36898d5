"""The SSRF guard's address classification, URL validation and resolution rules."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import pytest

from tidings.events.errors import InvalidCallbackUrl, RefusedTarget
from tidings.events.ssrf import (
    TargetPolicy,
    refusal_reason,
    resolve_target,
    validate_callback_url,
)

STRICT = TargetPolicy()
LOOPBACK = TargetPolicy(allow_loopback=True)
PRIVATE = TargetPolicy(allow_private=True)
EVERYTHING = TargetPolicy(allow_loopback=True, allow_private=True)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.8.9.10", "a loopback address"),
        ("::1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("10.0.0.1", "a private address"),
        ("172.16.5.4", "a private address"),
        ("192.168.1.1", "a private address"),
        ("100.64.0.1", "a private address"),
        ("fd12:3456::1", "a private address"),
        ("::ffff:10.1.2.3", "a private address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("169.254.1.1", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("0.0.0.0", "an unspecified address"),
        ("0.1.2.3", "an unspecified address"),
        ("::", "an unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
        ("192.0.2.10", "a reserved address"),
        ("255.255.255.255", "a reserved address"),
    ],
)
def test_non_public_addresses_are_refused_by_default(address: str, reason: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address), STRICT) == reason


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address), STRICT) is None


def test_each_setting_opens_only_its_own_networks() -> None:
    loopback, private = ipaddress.ip_address("::1"), ipaddress.ip_address("10.0.0.1")
    assert refusal_reason(loopback, LOOPBACK) is None
    assert refusal_reason(private, LOOPBACK) == "a private address"
    assert refusal_reason(private, PRIVATE) is None
    assert refusal_reason(loopback, PRIVATE) == "a loopback address"
    # Metadata and link-local stay closed whatever is allowed.
    for never in ("169.254.169.254", "fd00:ec2::254", "fe80::1", "0.0.0.0"):
        assert refusal_reason(ipaddress.ip_address(never), EVERYTHING) is not None


@pytest.mark.parametrize(
    "url",
    [
        "",
        "example.com/dlr",
        "ftp://example.com/",
        "javascript:alert(1)",
        "https:///path",
        "http://exa mple.com/",
        "http://example.com/\r\nX-Injected: 1",
        "http://example.com:99999/",
        "http://example.com:0/",
        "http://[::1/",
        "https://example.com/" + "a" * 2100,
    ],
)
def test_malformed_callback_urls_are_refused_with_a_clear_error(url: str) -> None:
    with pytest.raises(InvalidCallbackUrl) as raised:
        validate_callback_url(url)
    assert raised.value.message.startswith("The callback URL")


def test_valid_urls_come_back_without_their_fragment() -> None:
    assert validate_callback_url("HTTPS://Example.com:8443/p?q=1#f") == (
        "https://Example.com:8443/p?q=1"
    )
    assert validate_callback_url("http://[2606:4700::1]/x") == "http://[2606:4700::1]/x"


def test_a_policy_refuses_literal_addresses_at_accept_time() -> None:
    with pytest.raises(InvalidCallbackUrl, match="loopback"):
        validate_callback_url("http://127.0.0.1:8080/", STRICT)
    assert validate_callback_url("http://127.0.0.1:8080/", LOOPBACK) == "http://127.0.0.1:8080/"
    # Names are only resolved at delivery; accepting does not depend on DNS.
    assert validate_callback_url("http://internal.example/", STRICT) == "http://internal.example/"


def resolver_giving(*addresses: str):  # type: ignore[no-untyped-def]
    asked: list[tuple[str, int]] = []

    async def resolve(host: str, port: int) -> Sequence[str]:
        asked.append((host, port))
        return list(addresses)

    return resolve, asked


async def test_a_name_resolving_to_any_refused_address_is_refused() -> None:
    # A public answer next to a private one is a rebinding trick, not a reason to proceed.
    resolve, _ = resolver_giving("93.184.216.34", "10.0.0.7")
    with pytest.raises(RefusedTarget, match=r"hooks\.example\.com.*a private address"):
        await resolve_target("https://hooks.example.com/x", STRICT, resolve)


async def test_the_connection_goes_to_the_checked_address() -> None:
    resolve, asked = resolver_giving("93.184.216.34")
    target = await resolve_target("https://hooks.example.com/x", STRICT, resolve)
    assert (target.host, target.port, target.address) == ("hooks.example.com", 443, "93.184.216.34")
    assert asked == [("hooks.example.com", 443)]


async def test_zoned_link_local_answers_are_refused() -> None:
    resolve, _ = resolver_giving("fe80::1%eth0")
    with pytest.raises(RefusedTarget, match="link-local"):
        await resolve_target("http://hooks.example.com:8080/x", EVERYTHING, resolve)


async def test_literal_addresses_are_not_resolved() -> None:
    resolve, asked = resolver_giving("93.184.216.34")
    with pytest.raises(RefusedTarget, match="metadata"):
        await resolve_target("http://169.254.169.254/latest/meta-data/", EVERYTHING, resolve)
    assert asked == []


async def test_a_name_with_no_address_is_a_temporary_failure() -> None:
    resolve, _ = resolver_giving()
    with pytest.raises(OSError):
        await resolve_target("https://hooks.example.com/x", STRICT, resolve)


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LocalHost.",
        "api.localhost",
        "ip6-localhost",
        "127.1",
        "2130706433",
        "0x7f000001",
        "0177.0.0.1",
        "0x7f.0.0.1",
        "0",
        "[::1]",
        "[::ffff:127.0.0.1]",
    ],
)
def test_every_spelling_of_this_host_is_refused_when_saved(host: str) -> None:
    with pytest.raises(InvalidCallbackUrl, match=r"loopback|unspecified"):
        validate_callback_url(f"http://{host}:8080/hook", STRICT)
    if host != "0":  # 0.0.0.0 is no loopback address: it stays refused
        assert validate_callback_url(f"http://{host}:8080/hook", LOOPBACK)


@pytest.mark.parametrize("host", ["025.0.0.1", "0xa9.0xfe.0xa9.0xfe", "167772161"])
def test_numeric_spellings_of_other_refused_networks(host: str) -> None:
    # 025 is octal 21 (a public address); 169.254.169.254 in hex; 10.0.0.1 as one number.
    if host == "025.0.0.1":
        assert validate_callback_url(f"http://{host}/", STRICT)
        return
    with pytest.raises(InvalidCallbackUrl, match=r"metadata|private"):
        validate_callback_url(f"http://{host}/", STRICT)


async def test_numeric_spellings_are_judged_without_resolving() -> None:
    resolve, asked = resolver_giving("93.184.216.34")
    with pytest.raises(RefusedTarget, match="loopback"):
        await resolve_target("http://0x7f000001/x", STRICT, resolve)
    assert asked == []


def test_names_that_merely_look_numeric_are_names() -> None:
    assert validate_callback_url("https://1e100.net/x", STRICT) == "https://1e100.net/x"
    assert validate_callback_url("https://123.example.com/x", STRICT)
