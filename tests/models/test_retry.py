"""RetryPolicy: Retry-After first, else capped exponential backoff with jitter."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from lmms_eval.models.api import retry
from lmms_eval.models.api.retry import RETRYABLE_STATUSES, RetryPolicy, parse_retry_after


def http_date(seconds_from_now: float) -> str:
    return format_datetime(datetime.now(timezone.utc) + timedelta(seconds=seconds_from_now), usegmt=True)


@pytest.mark.parametrize("value, seconds", [("0", 0.0), ("2.5", 2.5), (" 7 ", 7.0), ("-3", 0.0), ("120", 120.0)])
def test_retry_after_seconds(value, seconds):
    assert parse_retry_after(value) == seconds


@pytest.mark.parametrize("value", [None, "", "   ", "soon", "Tomorrow at noon", "Thu, 01 Jan"])
def test_unparseable_retry_after_is_none(value):
    assert parse_retry_after(value) is None


def test_retry_after_http_date_in_the_future():
    # HTTP dates have whole seconds, so up to one second is lost to truncation.
    assert 28.0 < parse_retry_after(http_date(30)) <= 30.0


def test_retry_after_http_date_in_the_past_is_zero():
    assert parse_retry_after(http_date(-300)) == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00") == 0.0  # no zone: read as UTC


def test_delay_honours_retry_after_seconds():
    policy = RetryPolicy(max_retries=3, base_delay=10.0, max_delay=60.0)
    assert policy.delay(1, "0") == 0.0
    assert policy.delay(4, "2.5") == 2.5


def test_delay_honours_an_http_date():
    policy = RetryPolicy(base_delay=0.01, max_delay=60.0)
    assert 18.0 < policy.delay(1, http_date(20)) <= 20.0


def test_delay_caps_retry_after_at_max_delay():
    policy = RetryPolicy(base_delay=0.01, max_delay=5.0)
    assert policy.delay(1, "3600") == 5.0
    assert policy.delay(1, "inf") == 5.0
    assert policy.delay(1, http_date(600)) == 5.0


def test_delay_without_retry_after_is_exponential(monkeypatch):
    monkeypatch.setattr(retry.random, "uniform", lambda low, high: 1.0)
    policy = RetryPolicy(base_delay=0.5, max_delay=100.0)
    assert [policy.delay(attempt) for attempt in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert policy.delay(3, "later") == 2.0  # an unreadable Retry-After is ignored


def test_jitter_bounds_are_half_and_one_and_a_half(monkeypatch):
    bounds = []
    monkeypatch.setattr(retry.random, "uniform", lambda low, high: bounds.append((low, high)) or high)
    policy = RetryPolicy(base_delay=1.0, max_delay=100.0)
    assert policy.delay(3) == 6.0  # 4 s * 1.5
    assert bounds == [(0.5, 1.5)]


def test_jittered_delays_stay_within_half_and_one_and_a_half(monkeypatch):
    monkeypatch.setattr(retry, "random", random.Random(7))  # seeded, without touching the global one
    policy = RetryPolicy(base_delay=0.01, max_delay=60.0)
    for attempt in (1, 2, 3, 6):
        nominal = 0.01 * 2 ** (attempt - 1)
        delays = [policy.delay(attempt) for _ in range(300)]
        assert all(0.5 * nominal <= delay <= 1.5 * nominal for delay in delays)
        assert max(delays) - min(delays) > 0.5 * nominal  # jitter really varies


def test_backoff_is_capped_at_max_delay(monkeypatch):
    monkeypatch.setattr(retry.random, "uniform", lambda low, high: high)
    policy = RetryPolicy(base_delay=1.0, max_delay=3.0)
    assert [policy.delay(attempt) for attempt in (1, 2, 3, 10)] == [1.5, 3.0, 3.0, 3.0]


def test_defaults():
    assert RetryPolicy() == RetryPolicy(max_retries=5, base_delay=1.0, max_delay=60.0)


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 599])
def test_retryable_statuses(status):
    assert status in RETRYABLE_STATUSES


@pytest.mark.parametrize("status", [200, 400, 401, 403, 404, 413, 422, 600])
def test_not_retryable_statuses(status):
    assert status not in RETRYABLE_STATUSES
