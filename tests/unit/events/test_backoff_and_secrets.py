"""Retry spacing and webhook secrets."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook

from tidings.events.delivery import backoff_delay
from tidings.events.errors import InvalidWebhookSecret
from tidings.events.subscriptions import new_secret, validate_secret


@given(st.integers(min_value=1, max_value=10_000), st.integers(min_value=0, max_value=2**32))
def test_each_delay_lies_within_the_full_jitter_window(retry: int, seed: int) -> None:
    delay = backoff_delay(retry, base=1.0, cap=3600.0, rng=random.Random(seed))
    assert 0.0 <= delay <= min(3600.0, 2.0 ** min(retry - 1, 60))


def test_the_window_doubles_until_the_cap() -> None:
    rng = random.Random(7)
    windows = []
    for retry in (1, 2, 3, 12, 13, 50):
        windows.append(
            max(backoff_delay(retry, base=1.0, cap=3600.0, rng=rng) for _ in range(2000))
        )
    # The largest of many draws approaches each window's ceiling: 1, 2, 4, 2048, cap, cap.
    for observed, ceiling in zip(windows, (1, 2, 4, 2048, 3600, 3600), strict=True):
        assert 0.9 * ceiling <= observed <= ceiling


def test_retrying_for_a_day_takes_dozens_of_attempts_not_thousands() -> None:
    rng = random.Random(1)
    elapsed, retries = 0.0, 0
    while elapsed < 25 * 3600:
        retries += 1
        elapsed += backoff_delay(retries, base=1.0, cap=3600.0, rng=rng)
    assert 20 <= retries <= 200


def test_generated_secrets_sign_and_verify_with_standard_webhooks() -> None:
    secret = new_secret()
    assert validate_secret(secret) == secret
    assert new_secret() != secret
    Webhook(secret)


@pytest.mark.parametrize(
    "secret",
    ["", "whsec_", "secret", "whsec_!!!notbase64", "whsec_c2hvcnQ=", "whsec_" + "QUFB" * 40],
)
def test_malformed_secrets_are_refused(secret: str) -> None:
    with pytest.raises(InvalidWebhookSecret):
        validate_secret(secret)
