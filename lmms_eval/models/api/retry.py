"""When and how long to wait before asking an HTTP API again."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

RETRYABLE_STATUSES = frozenset({408, 409, 429}) | frozenset(range(500, 600))


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
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
