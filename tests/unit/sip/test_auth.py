"""Digest answers checked against the published examples (RFC 2617 §3.5, RFC 7616 §3.9.1)."""

from __future__ import annotations

import re

import pytest

from tidings.sip.auth import Challenge, authorization
from tidings.sip.errors import RemoteProtocolError


def _response(header: str) -> str:
    match = re.search(r'response="([0-9a-f]+)"', header)
    assert match is not None
    return match.group(1)


def test_rfc2617_md5_example() -> None:
    challenge = Challenge.parse(
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    header = authorization(
        challenge,
        username="Mufasa",
        password="Circle Of Life",
        method="GET",
        uri="/dir/index.html",
        cnonce="0a4f113b",
    )
    assert _response(header) == "6629fae49393a05397450978507c4ef1"
    assert 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in header
    assert "qop=auth," in header and "nc=00000001" in header


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_examples(algorithm: str, expected: str) -> None:
    challenge = Challenge.parse(
        f'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={algorithm}, '
        'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
        'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
    )
    header = authorization(
        challenge,
        username="Mufasa",
        password="Circle of Life",
        method="GET",
        uri="/dir/index.html",
        cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    )
    assert _response(header) == expected


def test_a_challenge_without_qop_uses_the_rfc2069_form() -> None:
    challenge = Challenge.parse('Digest realm="sip.example", nonce="abc"')
    header = authorization(
        challenge, username="u", password="p", method="INVITE", uri="sip:x@y", cnonce="c"
    )
    assert "qop" not in header and "cnonce" not in header


@pytest.mark.parametrize(
    "text",
    [
        'Basic realm="x"',
        'Digest realm="x"',
        'Digest nonce="x"',
        'Digest realm="x", nonce="y", algorithm=SHA-1',
        'Digest realm="x", nonce="y", ,,, "',
        "Digest " + "a=b, " * 2000,
    ],
)
def test_unusable_challenges_are_refused(text: str) -> None:
    with pytest.raises(RemoteProtocolError):
        Challenge.parse(text)
