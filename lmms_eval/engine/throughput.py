"""How fast a task's requests were answered: wall time, per-request latency, retries.

Measured by the engine around the backend, so every backend gets the same figures: a
request's latency runs from the moment the backend pulls it to the moment its response
comes back (for a batching local model, the time of its batch; for an API backend, the
HTTP round trips, retries and waits included).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from lmms_eval.api.response import Response


def retries_of(response: Response) -> int:
    """Extra attempts the backend made beyond the first (a request never sent made none)."""
    attempts = response.failure.attempts if response.failure is not None else response.attempts
    return max(attempts - 1, 0)


@dataclass
class Throughput:
    """One task's inference timing; `asked` counts the requests sent to the model."""

    wall_seconds: float = 0.0
    asked: int = 0
    latencies: list[float] = field(default_factory=list)  # of the requests that came back
    retries: int = 0
    # Tokens of the requests asked in this run (answers from the store cost nothing now).
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @classmethod
    def merge(cls, parts: list[Throughput]) -> Throughput:
        """Ranks run side by side: the task took as long as the slowest one."""
        merged = cls(wall_seconds=max((part.wall_seconds for part in parts), default=0.0))
        for part in parts:
            merged.asked += part.asked
            merged.latencies.extend(part.latencies)
            merged.retries += part.retries
            merged.prompt_tokens += part.prompt_tokens
            merged.completion_tokens += part.completion_tokens
        return merged

    def requests_per_second(self) -> float | None:
        return self.asked / self.wall_seconds if self.asked and self.wall_seconds > 0 else None

    def latency_percentile(self, percent: float) -> float | None:
        return percentile(self.latencies, percent)


def percentile(values: list[float], percent: float) -> float | None:
    """Nearest-rank percentile (the smallest value with `percent`% of values at or below it)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(percent / 100 * len(ordered)), 1)
    return ordered[rank - 1]


class Stopwatch:
    """Times each request from the moment it is handed to the backend until it is answered."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.throughput = Throughput()

    def sent(self) -> float:
        """The moment a request is handed over (kept by the caller for `answered`)."""
        self.throughput.asked += 1
        return time.perf_counter()

    def answered(self, response: Response, sent_at: float) -> None:
        self.throughput.latencies.append(max(time.perf_counter() - sent_at, 0.0))
        self.throughput.retries += retries_of(response)
        if response.usage is not None:
            self.throughput.prompt_tokens += response.usage.prompt_tokens
            self.throughput.completion_tokens += response.usage.completion_tokens

    def stop(self) -> Throughput:
        self.throughput.wall_seconds = time.perf_counter() - self.started
        return self.throughput
