"""HTTP Digest authentication for SIP (RFC 3261 §22, RFC 7616 hashes, RFC 8760 algorithms).

A 401 carries WWW-Authenticate, a 407 Proxy-Authenticate; the request is sent again with
Authorization or Proxy-Authorization. RFC 8760 adds SHA-256 and SHA-512/256 beside MD5; each
may be ``-sess``. With ``qop=auth`` (or ``auth-int``) a client nonce and a nonce count go in.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from tidings.sip.errors import RemoteProtocolError

_HASHES = {
    "MD5": "md5",
    "SHA-256": "sha256",
    "SHA-512-256": "sha512_256",
}
_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)\s*(?:,|$)')
MAX_CHALLENGE_CHARS = 4096


@dataclass(frozen=True, slots=True)
class Challenge:
    realm: str
    nonce: str
    algorithm: str = "MD5"
    opaque: str | None = None
    qop: tuple[str, ...] = ()
    stale: bool = False

    @classmethod
    def parse(cls, text: str) -> Challenge:
        if len(text) > MAX_CHALLENGE_CHARS:
            raise RemoteProtocolError("challenge too long")
        scheme, _, rest = text.strip().partition(" ")
        if scheme.lower() != "digest":
            raise RemoteProtocolError(f"unsupported authentication scheme {scheme[:20]!r}")
        params: dict[str, str] = {}
        position = 0
        rest = rest.strip()
        while position < len(rest):
            match = _PARAM.match(rest, position)
            if match is None or match.end() == position:
                raise RemoteProtocolError("malformed digest challenge")
            value = match.group(2)
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            params[match.group(1).lower()] = value
            position = match.end()
        if "realm" not in params or "nonce" not in params:
            raise RemoteProtocolError("digest challenge without realm or nonce")
        algorithm = params.get("algorithm", "MD5").upper()
        base = algorithm.removesuffix("-SESS")
        if base not in _HASHES:
            raise RemoteProtocolError(f"unsupported digest algorithm {algorithm[:30]!r}")
        qop = tuple(
            option.strip().lower() for option in params.get("qop", "").split(",") if option.strip()
        )
        return cls(
            realm=params["realm"],
            nonce=params["nonce"],
            algorithm=algorithm,
            opaque=params.get("opaque"),
            qop=qop,
            stale=params.get("stale", "").lower() == "true",
        )


def _hash(algorithm: str, text: str) -> str:
    return hashlib.new(_HASHES[algorithm.removesuffix("-SESS")], text.encode()).hexdigest()


def authorization(
    challenge: Challenge,
    *,
    username: str,
    password: str,
    method: str,
    uri: str,
    body: bytes = b"",
    cnonce: str,
    nonce_count: int = 1,
) -> str:
    """The credentials answering ``challenge`` (RFC 7616 §3.4.1, as RFC 3261 §22.4 uses them)."""
    algorithm = challenge.algorithm
    ha1 = _hash(algorithm, f"{username}:{challenge.realm}:{password}")
    if algorithm.endswith("-SESS"):
        ha1 = _hash(algorithm, f"{ha1}:{challenge.nonce}:{cnonce}")
    qop = (
        "auth" if "auth" in challenge.qop else ("auth-int" if "auth-int" in challenge.qop else None)
    )
    if qop == "auth-int":
        body_hash = hashlib.new(_HASHES[algorithm.removesuffix("-SESS")], body).hexdigest()
        ha2 = _hash(algorithm, f"{method}:{uri}:{body_hash}")
    else:
        ha2 = _hash(algorithm, f"{method}:{uri}")
    nc = f"{nonce_count:08x}"
    if qop is None:
        response = _hash(algorithm, f"{ha1}:{challenge.nonce}:{ha2}")
    else:
        response = _hash(algorithm, f"{ha1}:{challenge.nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    parts = [
        f'username="{_quote(username)}"',
        f'realm="{_quote(challenge.realm)}"',
        f'nonce="{_quote(challenge.nonce)}"',
        f'uri="{_quote(uri)}"',
        f'response="{response}"',
        f"algorithm={algorithm}",
    ]
    if challenge.opaque is not None:
        parts.append(f'opaque="{_quote(challenge.opaque)}"')
    if qop is not None:
        parts += [f"qop={qop}", f"nc={nc}", f'cnonce="{_quote(cnonce)}"']
    return "Digest " + ", ".join(parts)


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
