"""A SQLite response store (WAL mode), safe for several processes at once.

One row per (request key, model key). Each answer is committed in its own short
transaction the moment it arrives, so a run killed at any point loses only the requests
that were in flight. Failures are never written.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lmms_eval.api.request import Origin, Request
from lmms_eval.api.response import LoglikelihoodScore, Response, Usage
from lmms_eval.errors import LmmsEvalError

SCHEMA_VERSION = "1"
DEFAULT_BUSY_TIMEOUT = 30.0  # seconds: another process may hold the write lock for a moment
_SQLITE_MAGIC = b"SQLite format 3\x00"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS responses (
    request_key TEXT NOT NULL,
    model_key TEXT NOT NULL,
    model TEXT NOT NULL,
    task TEXT NOT NULL,
    answer TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (request_key, model_key)
) WITHOUT ROWID;
"""


class StoreError(LmmsEvalError):
    """The store file cannot be used (not a store, locked, read-only, newer schema)."""


@dataclass(frozen=True)
class StoreSummary:
    model: str
    task: str
    answers: int


class ResponseStore:
    def __init__(self, path: str | Path, *, create: bool = True, busy_timeout: float = DEFAULT_BUSY_TIMEOUT):
        self.path = Path(path)
        _check_is_store(self.path, create)
        try:
            self._db = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            self._set_up(time.monotonic() + busy_timeout)
        except sqlite3.Error as error:
            raise StoreError(f"--use_cache {self.path}: {error} (is the file or its folder read-only, or locked by another program?)") from None
        self._lock = threading.Lock()  # requests are built (and looked up) on worker threads
        self.unreadable = 0

    def _set_up(self, deadline: float) -> None:
        """WAL mode and the schema. Two processes opening a new store at once can find it
        busy in ways SQLite's busy handler does not wait for (the journal-mode switch):
        such attempts are retried until the busy timeout."""
        while True:
            try:
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: a crash loses no committed answer
                self._ensure_schema()
                return
            except sqlite3.OperationalError as error:
                busy = getattr(error, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
                if not busy or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _ensure_schema(self) -> None:
        self._db.executescript(_SCHEMA)
        row = self._db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
        if row is None:
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        elif row[0] != SCHEMA_VERSION:
            raise StoreError(f"--use_cache {self.path}: store schema {row[0]}, this lmms-eval reads {SCHEMA_VERSION}")

    # --- answers ------------------------------------------------------------------------

    def get(self, model_key: str, request: Request) -> Response | None:
        """The stored answer to `request`, or None. A row that cannot be decoded counts as missing."""
        with self._lock:
            row = self._db.execute(
                "SELECT answer FROM responses WHERE request_key = ? AND model_key = ?", (request.key, model_key)
            ).fetchone()
        if row is None:
            return None
        try:
            return decode_answer(row[0], request.key, request.origin)
        except (ValueError, KeyError, TypeError):
            self.unreadable += 1
            return None

    def put(self, model_key: str, model: str, response: Response) -> None:
        """Persist one answer now, in its own transaction. Failures are refused."""
        if not response.ok:
            raise ValueError("failed responses are never stored")
        answer = encode_answer(response)
        try:
            with self._lock:
                self._db.execute(
                    "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?)",
                    (response.key, model_key, model, response.origin.task, answer, time.time()),
                )
        except sqlite3.Error as error:
            raise StoreError(f"--use_cache {self.path}: cannot write: {error}") from None

    # --- maintenance ------------------------------------------------------------------------

    def summary(self) -> list[StoreSummary]:
        rows = self._db.execute("SELECT model, task, COUNT(*) FROM responses GROUP BY model, task ORDER BY model, task")
        return [StoreSummary(model, task, count) for model, task, count in rows]

    def clear(self, model: str | None = None, task: str | None = None) -> int:
        conditions, values = [], []
        for column, value in (("model", model), ("task", task)):
            if value is not None:
                conditions.append(f"{column} = ?")
                values.append(value)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        try:
            with self._lock:
                deleted = self._db.execute(f"DELETE FROM responses{where}", values).rowcount  # noqa: S608 - columns are fixed
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as error:
            raise StoreError(f"{self.path}: cannot clear: {error}") from None
        return deleted

    def size_bytes(self) -> int:
        return sum(path.stat().st_size for path in (self.path, Path(f"{self.path}-wal")) if path.exists())

    def close(self) -> None:
        self._db.close()


def _check_is_store(path: Path, create: bool) -> None:
    if path.is_dir():
        raise StoreError(f"--use_cache {path} is a folder; give a file path")
    if not path.exists():
        if not create:
            raise StoreError(f"no response store at {path}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"--use_cache {path}: cannot create its folder: {error.strerror}") from None
        return
    try:
        with path.open("rb") as handle:
            header = handle.read(len(_SQLITE_MAGIC))
    except OSError as error:
        raise StoreError(f"--use_cache {path}: {error.strerror}") from None
    if header and header != _SQLITE_MAGIC:
        raise StoreError(f"--use_cache {path} is not a response store (not an SQLite file); left untouched")


def encode_answer(response: Response) -> str:
    answer: dict[str, Any] = {}
    if response.text is not None:
        answer["text"] = response.text
    if response.loglikelihood is not None:
        answer["logprob"] = response.loglikelihood.logprob
        answer["is_greedy"] = response.loglikelihood.is_greedy
    if response.usage is not None:
        answer["usage"] = [response.usage.prompt_tokens, response.usage.completion_tokens]
    return json.dumps(answer, ensure_ascii=False)


def decode_answer(raw: str, key: str, origin: Origin) -> Response:
    answer = json.loads(raw)
    usage = Usage(*answer["usage"]) if "usage" in answer else None
    if "text" in answer:
        return Response(key=key, origin=origin, text=str(answer["text"]), usage=usage)
    score = LoglikelihoodScore(float(answer["logprob"]), bool(answer["is_greedy"]))
    return Response(key=key, origin=origin, loglikelihood=score, usage=usage)
