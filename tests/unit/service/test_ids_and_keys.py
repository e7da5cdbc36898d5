from __future__ import annotations

import hashlib

from tidings.core.accounts import hash_secret, key_id_of, verify_secret
from tidings.store.ids import ID_LENGTH, new_ids


def test_ids_of_one_call_increase_and_are_unique() -> None:
    ids = new_ids(1000)
    assert ids == sorted(ids)
    assert len(set(ids)) == 1000
    assert all(len(i) == ID_LENGTH for i in ids)


def test_later_milliseconds_sort_later() -> None:
    early = new_ids(50, now_ms=1_700_000_000_000)
    late = new_ids(50, now_ms=1_700_000_000_001)
    assert max(early) < min(late)


KEY = b"k" * 32


def test_a_secret_verifies_against_its_own_hash_only() -> None:
    stored = hash_secret("tdk_abc_secret", KEY)
    assert stored.startswith("hmac-sha256$")
    assert verify_secret("tdk_abc_secret", stored, KEY)
    assert not verify_secret("tdk_abc_secreT", stored, KEY)
    assert "tdk_abc_secret" not in stored


def test_hashes_are_keyed() -> None:
    # The same secret under another server secret verifies nowhere: a leaked table of hashes
    # cannot be checked without the key.
    assert hash_secret("same", KEY) == hash_secret("same", KEY)
    assert hash_secret("same", KEY) != hash_secret("same", b"o" * 32)
    assert not verify_secret("same", hash_secret("same", KEY), b"o" * 32)


def test_hashes_made_before_keyed_hashing_still_verify() -> None:
    # scrypt (N=2^14, r=8, p=1) of "tdk_old_secret" with salt 00..0f, as stored until then.
    salt = bytes(range(16))
    digest = hashlib.scrypt(b"tdk_old_secret", salt=salt, n=2**14, r=8, p=1, dklen=32)
    stored = f"scrypt${2**14}$8$1${salt.hex()}${digest.hex()}"
    assert verify_secret("tdk_old_secret", stored, KEY)
    assert not verify_secret("tdk_old_secreT", stored, KEY)


def test_a_malformed_stored_hash_never_verifies() -> None:
    assert not verify_secret("x", "plain", KEY)
    assert not verify_secret("x", "scrypt$1$2$3$zz$zz", KEY)
    assert not verify_secret("x", "bcrypt$1$2$3$00$00", KEY)
    assert not verify_secret("x", "hmac-sha256$", KEY)


def test_the_key_id_is_read_from_the_secret() -> None:
    assert key_id_of("tdk_abc123_randompart") == "abc123"
    assert key_id_of("tdk__random") is None
    assert key_id_of("xyz_abc_random") is None
    assert key_id_of("tdk_abc") is None
