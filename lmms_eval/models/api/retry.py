"""When and how long to wait before asking an HTTP API again, and when to stop asking a server that is down."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum

RETRYABLE_STATUSES = frozenset({408, 409, 429}) | frozenset(range(500, 600))
POLL_SECONDS = 0.1  # how often a waiting request looks whether the breaker has closed


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds before attempt `attempt + 1`: the server's Retry-After when it gives
        one, else exponential backoff with jitter (so clients do not retry in lockstep)."""
        advised = parse_retry_after(retry_after)
        if advised is not None:
            return min(advised, self.max_delay)
        exponential = self.base_delay * 2 ** (attempt - 1)
        return min(self.max_delay, exponential * random.uniform(0.5, 1.5))


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After is either seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime  # ~7 ms to import: only for an HTTP date

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


class Contact(Enum):
    """What one attempt learnt about whether the server is there."""

    ANSWERED = "answered"  # a whole HTTP reply came back, whatever its status
    NO_ANSWER = "no_answer"  # the connection failed, was reset, or nothing came back in time
    CUT_OFF = "cut_off"  # a reply started and broke off: the server is there, this reply is lost


class Admission(Enum):
    SEND = "send"
    PROBE = "probe"  # the one request let through to see whether a down server is back
    WAIT = "wait"
    GIVE_UP = "give_up"


class BreakerEvent(Enum):
    OPENED = "opened"
    CLOSED = "closed"
    GAVE_UP = "gave_up"


@dataclass(frozen=True)
class Ticket:
    admission: Admission
    seconds: float | None = None  # WAIT: how long to wait before asking again; PROBE: time left before giving up (None: no limit)


_SEND = Ticket(Admission.SEND)


class CircuitBreaker:
    """Whether requests may be sent to a server, so one outage is not paid for per request.

    Closed, every request goes. When `threshold` distinct requests in a row get no answer
    (connection error, reset or timeout; a request retrying counts once) with no answer
    from the server between them, the breaker opens and requests wait instead of failing.
    Every `probe_interval` seconds one waiting request goes as a probe: an answer closes
    the breaker, no answer keeps it open. After `give_up_after` seconds open, the waiting
    requests are given up (each is recorded as failed), and so is every later one. A
    later round (`next_round`, the next task) lets one probe through at once, and gives
    up on it alone if that probe gets no answer either.

    Plain state, no asyncio: callers poll `admit` with the waits it returns, so one
    breaker serves every event loop the backend runs.
    """

    def __init__(
        self,
        threshold: int = 5,
        probe_interval: float = 5.0,
        give_up_after: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        notify: Callable[[BreakerEvent], None] | None = None,
    ):
        if threshold < 1 or probe_interval < 0 or give_up_after < 0:
            raise ValueError("the breaker needs threshold >= 1 and non-negative intervals")
        self.threshold = threshold
        self.probe_interval = probe_interval
        self.give_up_after = give_up_after
        self._clock = clock
        self._notify = notify or (lambda event: None)
        self._unanswered: set[str] = set()  # distinct requests without an answer since the last one
        self._opened_at: float | None = None
        self._next_probe_at = 0.0
        self._probe: str | None = None  # the request out as a probe, if any
        self._last_chance = False
        self.given_up = False

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def admit(self, request: str) -> Ticket:
        """May `request` be sent now?"""
        if self._opened_at is None:
            return _SEND
        now = self._clock()
        deadline = self._opened_at + self.give_up_after
        if self._probe is not None:
            return Ticket(Admission.WAIT, POLL_SECONDS)
        if self.given_up or (now >= deadline and not self._last_chance):
            self._give_up()
            return Ticket(Admission.GIVE_UP)
        if now >= self._next_probe_at:
            self._probe, last_chance, self._last_chance = request, self._last_chance, False
            return Ticket(Admission.PROBE, None if last_chance else deadline - now)
        return Ticket(Admission.WAIT, min(POLL_SECONDS, self._next_probe_at - now))

    def record(self, request: str, contact: Contact) -> None:
        """What an attempt of `request` learnt."""
        was_probe = self._probe == request
        if was_probe:
            self._probe = None
        if contact is Contact.ANSWERED:
            self._close()
        elif contact is Contact.CUT_OFF:
            self._next_probe_at = self._clock() if was_probe else self._next_probe_at  # inconclusive: probe again
        else:
            self._unanswered.add(request)
            if was_probe:
                self._next_probe_at = self._clock() + self.probe_interval
            elif self._opened_at is None and len(self._unanswered) >= self.threshold:
                self._open()

    def next_round(self) -> None:
        """A new batch of requests (the next task): a server still down gets one probe at
        once, and is given up on again if that probe gets no answer after its deadline."""
        self._probe = None
        if self._opened_at is not None:
            self.given_up = False
            self._last_chance = True
            self._next_probe_at = self._clock()

    def _open(self) -> None:
        now = self._clock()
        self._opened_at = now
        self._next_probe_at = now + self.probe_interval
        self._notify(BreakerEvent.OPENED)

    def _close(self) -> None:
        self._unanswered.clear()
        was_open, self._opened_at = self._opened_at is not None, None
        self._last_chance = self.given_up = False
        if was_open:
            self._notify(BreakerEvent.CLOSED)

    def _give_up(self) -> None:
        if not self.given_up:
            self.given_up = True
            self._notify(BreakerEvent.GAVE_UP)
