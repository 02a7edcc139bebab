"""Progress of a task's inference: in a terminal one tqdm line per task (rate, ETA, failures
so far, answers from the store); elsewhere (a log file, CI) a plain log line now and then and
one when the task is done."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, TextIO

logger = logging.getLogger("lmms_eval.progress")

#: Seconds between plain progress lines when stderr is not a terminal.
PLAIN_INTERVAL_SECONDS = 30.0


class TaskProgress:
    """Counts answers as they come (`note`), and shows them."""

    def __init__(self, task: str, total: int | None, stream: TextIO | None = None, interval: float = PLAIN_INTERVAL_SECONDS):
        self.task, self.total, self.interval = task, total, interval
        self.stream = stream if stream is not None else sys.stderr
        self.done = self.failed = self.from_store = 0
        self.started = self._last_line = time.monotonic()
        self._bar: Any = None
        if _is_terminal(self.stream):
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=task, unit="req", file=self.stream, leave=True, mininterval=0.5, dynamic_ncols=True)

    def __enter__(self) -> TaskProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def note(self, failed: bool = False, stored: bool = False) -> None:
        """One request answered (or failed, or taken from the store)."""
        self.done += 1
        self.failed += failed
        self.from_store += stored
        if self._bar is not None:
            if failed or stored or self.done == 1:  # the postfix changes only then
                self._bar.set_postfix_str(self._counts(), refresh=False)
            self._bar.update(1)
        elif time.monotonic() - self._last_line >= self.interval:
            self._last_line = time.monotonic()
            self._plain_line(final=False)

    def update(self, count: int = 1) -> None:
        """tqdm's interface: `count` answers, none failed or stored."""
        for _ in range(count):
            self.note()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(self._counts(), refresh=False)
            self._bar.close()
            self._bar = None
        elif self.done:
            self._plain_line(final=True)

    def _counts(self) -> str:
        return f"failed={self.failed}, from store={self.from_store}"

    def _plain_line(self, final: bool) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        of = f"/{self.total}" if self.total else ""
        parts = [f"{self.task}: {self.done}{of} requests", f"{rate:.1f} req/s"]
        if final:
            parts[0] += f" in {elapsed:.1f} s"
        elif self.total and rate > 0:
            parts.append(f"ETA {max(self.total - self.done, 0) / rate:.0f} s")
        parts += [f"{self.failed} failed", f"{self.from_store} from the store"]
        logger.info("%s", ", ".join(parts))  # through logging: --verbosity WARNING silences it


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):  # a closed stream
        return False
