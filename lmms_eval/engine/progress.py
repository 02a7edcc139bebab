"""Progress of a task's inference: in a terminal one rich progress line per task (rate, ETA,
failures so far, answers from the store; kept when the task is done); elsewhere (a log file,
CI) a plain log line now and then and one when the task is done."""

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
        self._bar: Any = None  # a started rich Progress, in a terminal
        if is_terminal(self.stream):
            self._bar = _rich_progress(self.stream)
            self._line = self._bar.add_task(task, total=total, counts=self._counts())
            self._bar.start()

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
            self._bar.update(self._line, advance=1, counts=self._counts())  # drawn by rich's own refresh thread
        elif time.monotonic() - self._last_line >= self.interval:
            self._last_line = time.monotonic()
            self._plain_line(final=False)

    def update(self, count: int = 1) -> None:
        """A bar's interface (tqdm's): `count` answers, none failed or stored."""
        for _ in range(count):
            self.note()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.update(self._line, counts=self._counts())
            self._bar.stop()  # draws the final line and leaves it
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


def _rich_progress(stream: TextIO) -> Any:
    """A rich Progress writing to `stream`: task, bar, done/total, %, rate, ETA, counts."""
    from rich.console import Console  # only in a terminal: --help and --tasks list stay fast
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TaskProgressColumn, TextColumn, TimeRemainingColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text("? req/s" if speed is None else f"{speed:.1f} req/s")

    columns = (TextColumn("{task.description}", markup=False), BarColumn(bar_width=24), MofNCompleteColumn(), TaskProgressColumn(),
               RateColumn(), TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[counts]}", markup=False))
    console = Console(file=stream, highlight=False)
    # Our log lines reach stderr through handlers that hold the stream itself, so rich's redirect would not catch them.
    return Progress(*columns, console=console, transient=False, refresh_per_second=4, redirect_stdout=False, redirect_stderr=False)


def is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):  # a closed stream
        return False
