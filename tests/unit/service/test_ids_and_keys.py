from __future__ import annotations

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


def test_a_secret_verifies_against_its_own_hash_only() -> None:
    stored = hash_secret("tdk_abc_secret")
    assert verify_secret("tdk_abc_secret", stored)
    assert not verify_secret("tdk_abc_secreT", stored)
    assert "tdk_abc_secret" not in stored


def test_hashes_are_salted() -> None:
    assert hash_secret("same") != hash_secret("same")


def test_a_malformed_stored_hash_never_verifies() -> None:
    assert not verify_secret("x", "plain")
    assert not verify_secret("x", "scrypt$1$2$3$zz$zz")
    assert not verify_secret("x", "bcrypt$1$2$3$00$00")


def test_the_key_id_is_read_from_the_secret() -> None:
    assert key_id_of("tdk_abc123_randompart") == "abc123"
    assert key_id_of("tdk__random") is None
    assert key_id_of("xyz_abc_random") is None
    assert key_id_of("tdk_abc") is None
