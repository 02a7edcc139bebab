"""A SQLite response store (WAL mode), safe for several processes at once.

One row per (request key, model key). Each answer is committed in its own short
transaction the moment it arrives, so a run killed at any point loses only the requests
that were in flight. Failures are never written.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.api.response import LoglikelihoodScore, Response, Usage
from lmms_eval.errors import LmmsEvalError

SCHEMA_VERSION = "1"
READ_AHEAD_BYTES = 32 * 1024 * 1024  # of stored answers read at a model's first lookup; the rest one by one
DEFAULT_BUSY_TIMEOUT = 30.0  # seconds: another process may hold the write lock for a moment
_SQLITE_MAGIC = b"SQLite format 3\x00"
_TABLES = {"meta", "responses"}

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
    def __init__(
        self, path: str | Path, *, create: bool = True, busy_timeout: float = DEFAULT_BUSY_TIMEOUT, read_only: bool = False
    ):
        """Open (or create) a store. An existing file is first inspected through a
        read-only connection: one that is not a store of ours (another program's SQLite
        database, a corrupted file) is refused before anything could write to it.
        `read_only` (cache info) never writes at all."""
        self.path = Path(path)
        _check_is_store(self.path, create, busy_timeout)
        try:
            if read_only:
                self._db = _connect_read_only(self.path, busy_timeout)
            else:
                self._db = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
                self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
                self._set_up(time.monotonic() + busy_timeout)
        except sqlite3.Error as error:
            raise StoreError(f"--use_cache {self.path}: {error} (is the file or its folder read-only, or locked by another program?)") from None
        self._lock = threading.Lock()  # requests are built (and looked up) on worker threads
        self._read_ahead: dict[str, dict[str, str]] = {}  # model key -> request key -> stored answer
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
        """The stored answer to `request`, or None. A row that is not a valid answer to a
        request of this type counts as missing (it is asked again) and is counted."""
        try:
            with self._lock:
                raw = self._answers_read_ahead(model_key).pop(request.key, None)
                if raw is None:  # stored since (by another process), or beyond what was read ahead
                    row = self._db.execute(
                        "SELECT answer FROM responses WHERE request_key = ? AND model_key = ?", (request.key, model_key)
                    ).fetchone()
                    raw = row[0] if row is not None else None
        except sqlite3.Error as error:
            raise StoreError(f"--use_cache {self.path}: cannot read: {error}") from None
        if raw is None:
            return None
        try:
            return decode_answer(raw, request.key, request.origin, request.type)
        except UnreadableAnswer:
            self.unreadable += 1
            return None

    def _answers_read_ahead(self, model_key: str) -> dict[str, Any]:
        """The model's stored answers, read in one query at its first lookup (one query
        per request cost more than the rest of a cached re-run's work on that request),
        up to READ_AHEAD_BYTES of them; each is handed out once."""
        answers = self._read_ahead.get(model_key)
        if answers is None:
            answers = self._read_ahead[model_key] = {}
            size = 0
            for request_key, answer in self._db.execute("SELECT request_key, answer FROM responses WHERE model_key = ?", (model_key,)):
                if not isinstance(request_key, str):
                    continue  # no request has such a key
                size += len(request_key) + (len(answer) if isinstance(answer, (str, bytes)) else 8)
                if size > READ_AHEAD_BYTES:
                    break
                answers[request_key] = answer
        return answers

    def put(self, model_key: str, model: str, response: Response) -> None:
        """Persist one answer now, in its own transaction. Failures are refused."""
        if not response.ok:
            raise ValueError("failed responses are never stored")
        answer = encode_answer(response)
        try:
            with self._lock:
                self._read_ahead.get(model_key, {}).pop(response.key, None)  # a later get reads the new answer
                self._db.execute(
                    "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?)",
                    (response.key, model_key, model, response.origin.task, answer, time.time()),
                )
        except sqlite3.Error as error:
            raise StoreError(f"--use_cache {self.path}: cannot write: {error}") from None

    # --- maintenance ------------------------------------------------------------------------

    def summary(self) -> list[StoreSummary]:
        try:
            rows = self._db.execute("SELECT model, task, COUNT(*) FROM responses GROUP BY model, task ORDER BY model, task").fetchall()
        except sqlite3.Error as error:
            raise StoreError(f"{self.path}: cannot read: {error}") from None
        return [StoreSummary(model, task, count) for model, task, count in rows]

    def empty_answers(self, model: str | None = None, task: str | None = None) -> int:
        """Stored answers whose text is empty or only whitespace."""
        return len(self._empty_rows(*_where(model, task)))

    def clear(self, model: str | None = None, task: str | None = None, *, empty: bool = False) -> int:
        """Delete stored answers (of one model and/or task); with `empty`, only the
        empty ones, so that a run asks them again."""
        where, values = _where(model, task)
        try:
            with self._lock:
                self._read_ahead.clear()  # nothing deleted may be handed out
                if empty:
                    keys = self._empty_rows(where, values)
                    self._db.execute("BEGIN IMMEDIATE")
                    self._db.executemany("DELETE FROM responses WHERE request_key = ? AND model_key = ?", keys)
                    self._db.execute("COMMIT")
                    deleted = len(keys)
                else:
                    deleted = self._db.execute(f"DELETE FROM responses{where}", values).rowcount  # noqa: S608 - columns are fixed
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as error:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise StoreError(f"{self.path}: cannot clear: {error}") from None
        return deleted

    def _empty_rows(self, where: str, values: list[str]) -> list[tuple[str, str]]:
        try:
            rows = self._db.execute(f"SELECT request_key, model_key, answer FROM responses{where}", values).fetchall()  # noqa: S608
        except sqlite3.Error as error:
            raise StoreError(f"{self.path}: cannot read: {error}") from None
        return [(request_key, model_key) for request_key, model_key, answer in rows if _is_empty_answer(answer)]

    def size_bytes(self) -> int:
        return sum(path.stat().st_size for path in (self.path, Path(f"{self.path}-wal")) if path.exists())

    def close(self) -> None:
        self._db.close()


def _where(model: str | None, task: str | None) -> tuple[str, list[str]]:
    conditions, values = [], []
    for column, value in (("model", model), ("task", task)):
        if value is not None:
            conditions.append(f"{column} = ?")
            values.append(value)
    return (f" WHERE {' AND '.join(conditions)}" if conditions else ""), values


def _check_is_store(path: Path, create: bool, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
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
    if not header:
        return  # an empty file: a new store
    if header != _SQLITE_MAGIC:
        raise StoreError(f"--use_cache {path} is not a response store (not an SQLite file); left untouched")
    _inspect(path, busy_timeout)


def _connect_read_only(path: Path, busy_timeout: float) -> sqlite3.Connection:
    uri = f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro"
    return sqlite3.connect(uri, uri=True, timeout=busy_timeout, isolation_level=None, check_same_thread=False)


def _inspect(path: Path, busy_timeout: float) -> None:
    """Through a read-only connection (nothing is written, no PRAGMA changes anything):
    the file must be intact and hold our tables, or no tables at all."""
    try:
        db = _connect_read_only(path, busy_timeout)
    except sqlite3.Error as error:
        raise StoreError(f"--use_cache {path}: cannot open: {error}; left untouched") from None
    try:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return  # an SQLite file with nothing in it yet
        if tables != _TABLES:
            shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
            raise StoreError(f"--use_cache {path} is an SQLite database but not a response store (its tables: {shown}); left untouched")
        row = db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
        if row is None:
            raise StoreError(f"--use_cache {path} is not a response store (it has no schema version); left untouched")
        if row[0] != SCHEMA_VERSION:
            raise StoreError(f"--use_cache {path}: store schema {row[0]}, this lmms-eval reads {SCHEMA_VERSION}; left untouched")
        problems = [line for (line,) in db.execute("PRAGMA quick_check(3)")]  # reads every page, writes nothing
        if problems != ["ok"]:
            raise StoreError(f"--use_cache {path} is corrupted ({problems[0]}); left untouched")
    except sqlite3.OperationalError as error:
        if getattr(error, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            raise StoreError(f"--use_cache {path}: {error} (locked by another program?)") from None
        raise StoreError(f"--use_cache {path} is corrupted or not a response store ({error}); left untouched") from None
    except sqlite3.DatabaseError as error:
        raise StoreError(f"--use_cache {path} is corrupted or not a response store ({error}); left untouched") from None
    finally:
        db.close()


def is_empty_text(text: str) -> bool:
    """An answer with no words: empty, or only whitespace."""
    return not text.strip()


def _is_empty_answer(raw: str) -> bool:
    try:
        answer = json.loads(raw)
    except (TypeError, ValueError):
        return False
    return isinstance(answer, dict) and isinstance(answer.get("text"), str) and is_empty_text(answer["text"])


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


class UnreadableAnswer(ValueError):
    """A stored row that is not a valid answer: it counts as missing."""


_TEXT_KEYS = {"text", "usage"}
_SCORE_KEYS = {"logprob", "is_greedy", "usage"}


def decode_answer(raw: Any, key: str, origin: Origin, request_type: RequestType | None = None) -> Response:
    """A stored answer, validated: text is a str; a log-likelihood is a finite number and
    a bool; usage is two counts; nothing else, and of the kind the request asks for.
    (A stored text that merely looks odd, such as the repr of a list of parts an old
    version wrote, cannot be told from text; a stored non-string never becomes text.)"""
    try:
        answer = json.loads(raw)
    except (TypeError, ValueError):
        raise UnreadableAnswer("not JSON") from None
    if not isinstance(answer, dict):
        raise UnreadableAnswer("not a JSON object")
    usage = _usage(answer["usage"]) if "usage" in answer else None
    if "text" in answer:
        if set(answer) - _TEXT_KEYS or not isinstance(answer["text"], str):
            raise UnreadableAnswer("text must be a string, alone")
        if request_type is RequestType.LOGLIKELIHOOD:
            raise UnreadableAnswer("text stored for a log-likelihood request")
        return Response(key=key, origin=origin, text=answer["text"], usage=usage)
    logprob, is_greedy = answer.get("logprob"), answer.get("is_greedy")
    if set(answer) - _SCORE_KEYS or not _finite_number(logprob) or not isinstance(is_greedy, bool):
        raise UnreadableAnswer("a log-likelihood must be a finite number and a bool")
    if request_type is RequestType.GENERATE_UNTIL:
        raise UnreadableAnswer("a log-likelihood stored for a generation request")
    return Response(key=key, origin=origin, loglikelihood=LoglikelihoodScore(float(logprob), is_greedy), usage=usage)


def _finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _usage(value: Any) -> Usage:
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in value)):
        raise UnreadableAnswer("usage must be two token counts")
    return Usage(*value)
