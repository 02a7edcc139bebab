"""RetryPolicy: Retry-After first, else capped exponential backoff with jitter; CircuitBreaker: when a server counts as down."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from lmms_eval.models.api import retry
from lmms_eval.models.api.retry import POLL_SECONDS, RETRYABLE_STATUSES, Admission, BreakerEvent, CircuitBreaker, Contact, RetryPolicy, parse_retry_after


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


# --- the circuit breaker ---------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def breaker(threshold=3, probe_interval=5.0, give_up_after=60.0):
    clock, events = Clock(), []
    return CircuitBreaker(threshold, probe_interval, give_up_after, clock=clock, notify=events.append), clock, events


def fail(breaker_, *requests):
    for request in requests:
        breaker_.record(request, Contact.NO_ANSWER)


def test_closed_breaker_sends_everything():
    b, _, events = breaker()
    assert b.admit("a").admission is Admission.SEND
    fail(b, "a", "b")
    assert b.admit("c").admission is Admission.SEND and not b.is_open and events == []


def test_retries_of_one_request_count_once():
    b, _, _ = breaker(threshold=2)
    fail(b, "a", "a", "a", "a")
    assert not b.is_open
    fail(b, "b")
    assert b.is_open


def test_an_answer_between_failures_starts_the_count_again():
    b, _, _ = breaker(threshold=3)
    fail(b, "a", "b")
    b.record("c", Contact.ANSWERED)  # an HTTP error status is an answer too
    fail(b, "d", "e")
    assert not b.is_open


def test_a_reply_cut_off_neither_counts_nor_resets():
    b, _, _ = breaker(threshold=2)
    fail(b, "a")
    b.record("b", Contact.CUT_OFF)
    assert not b.is_open
    fail(b, "c")
    assert b.is_open


def test_open_breaker_holds_requests_then_lets_one_probe_through():
    b, clock, events = breaker(threshold=2, probe_interval=5.0)
    fail(b, "a", "b")
    assert events == [BreakerEvent.OPENED]
    held = b.admit("c")
    assert held.admission is Admission.WAIT and held.seconds == POLL_SECONDS
    clock.now += 5.0
    probe = b.admit("c")
    assert probe.admission is Admission.PROBE and probe.seconds == 55.0  # it must end before the give-up
    assert b.admit("d").admission is Admission.WAIT  # one probe at a time
    b.record("c", Contact.ANSWERED)
    assert events == [BreakerEvent.OPENED, BreakerEvent.CLOSED]
    assert b.admit("d").admission is Admission.SEND


def test_a_failed_probe_waits_another_interval():
    b, clock, _ = breaker(threshold=1, probe_interval=5.0)
    fail(b, "a")
    clock.now += 5.0
    assert b.admit("a").admission is Admission.PROBE
    fail(b, "a")
    clock.now += 4.0
    assert b.admit("b").admission is Admission.WAIT
    clock.now += 1.0
    assert b.admit("b").admission is Admission.PROBE


def test_a_probe_cut_off_lets_the_next_probe_go_at_once():
    b, clock, _ = breaker(threshold=1)
    fail(b, "a")
    clock.now += 5.0
    assert b.admit("a").admission is Admission.PROBE
    b.record("a", Contact.CUT_OFF)
    assert b.admit("b").admission is Admission.PROBE


def test_a_silent_server_is_given_up_on_after_give_up_after():
    b, clock, events = breaker(threshold=1, probe_interval=5.0, give_up_after=12.0)
    fail(b, "a")
    clock.now += 12.0
    assert b.admit("b").admission is Admission.GIVE_UP
    assert b.admit("c").admission is Admission.GIVE_UP and b.given_up
    assert events == [BreakerEvent.OPENED, BreakerEvent.GAVE_UP]  # announced once


def test_a_probe_in_flight_at_the_deadline_is_waited_for():
    b, clock, _ = breaker(threshold=1, probe_interval=5.0, give_up_after=6.0)
    fail(b, "a")
    clock.now += 5.0
    assert b.admit("a").admission is Admission.PROBE
    clock.now += 3.0
    assert b.admit("b").admission is Admission.WAIT
    b.record("a", Contact.ANSWERED)
    assert b.admit("b").admission is Admission.SEND


def test_an_answer_from_a_request_in_flight_closes_a_given_up_breaker():
    b, clock, _ = breaker(threshold=1, give_up_after=1.0)
    fail(b, "a")
    clock.now += 1.0
    assert b.admit("b").admission is Admission.GIVE_UP
    b.record("z", Contact.ANSWERED)
    assert b.admit("b").admission is Admission.SEND and not b.given_up


def test_next_round_probes_a_given_up_server_once_and_gives_up_if_it_is_silent():
    b, clock, events = breaker(threshold=1, give_up_after=1.0)
    fail(b, "a")
    clock.now += 1.0
    assert b.admit("b").admission is Admission.GIVE_UP
    b.next_round()
    probe = b.admit("c")
    assert probe.admission is Admission.PROBE and probe.seconds is None  # its own full timeout
    assert b.admit("d").admission is Admission.WAIT
    fail(b, "c")
    assert b.admit("d").admission is Admission.GIVE_UP
    assert events.count(BreakerEvent.GAVE_UP) == 2


def test_next_round_clears_a_probe_that_never_came_back():
    b, clock, _ = breaker(threshold=1)
    fail(b, "a")
    clock.now += 5.0
    assert b.admit("a").admission is Admission.PROBE  # then its task was cancelled
    b.next_round()
    assert b.admit("b").admission is Admission.PROBE


@pytest.mark.parametrize("args", [(0, 1.0, 1.0), (1, -1.0, 1.0), (1, 1.0, -1.0)])
def test_breaker_settings_are_checked(args):
    with pytest.raises(ValueError):
        CircuitBreaker(*args)
