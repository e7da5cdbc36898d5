from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tidings.media import signing

KEY = b"k" * 32


def test_a_signed_url_verifies_until_it_expires() -> None:
    url = signing.media_url("https://sms.example.com/", KEY, "M1", expires=1_000)
    parts = urlsplit(url)
    assert parts.path == "/v1/media/M1/content"
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    signature = query["sig"]
    assert signing.verify(KEY, "M1", expires=1_000, signature=signature, variant="", now=999)
    assert not signing.verify(KEY, "M1", expires=1_000, signature=signature, variant="", now=1001)


def test_nothing_else_verifies() -> None:
    query = signing.sign(KEY, "M1", expires=1_000, variant="abc")
    signature = query["sig"]
    ok = {"expires": 1_000, "signature": signature, "variant": "abc", "now": 0}
    assert signing.verify(KEY, "M1", **ok)  # type: ignore[arg-type]
    assert not signing.verify(KEY, "M2", **ok)  # type: ignore[arg-type]
    assert not signing.verify(b"x" * 32, "M1", **ok)  # type: ignore[arg-type]
    assert not signing.verify(KEY, "M1", **{**ok, "variant": ""})  # type: ignore[arg-type]
    assert not signing.verify(KEY, "M1", **{**ok, "expires": 2_000})  # type: ignore[arg-type]
    assert not signing.verify(KEY, "M1", **{**ok, "signature": signature[:-1] + "A"})  # type: ignore[arg-type]
