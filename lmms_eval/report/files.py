"""Writing output files atomically, with secrets removed."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import tempfile
from pathlib import Path
from typing import Any

from lmms_eval.errors import OutputError
from lmms_eval.redaction import REDACTED, SECRET_ENVIRONMENT, Redactor  # noqa: F401 - re-exported for the writers


def to_json_text(data: Any, redact: Redactor, indent: int | None = 2) -> str:
    return redact(json.dumps(data, indent=indent, ensure_ascii=False, default=_json_default))


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a file.

    The temporary file's name carries this host and process id, so that a later run can
    tell one left by a killed process (`remove_stale_temporaries`) from one being written."""
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{_WRITER_TAG}-{os.getpid()}-", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except OSError as error:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None


_WRITER_TAG = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"
_TEMPORARY = re.compile(r"^\..+\.(?P<host>[A-Za-z0-9]+)-(?P<pid>\d+)-[A-Za-z0-9_]+\.tmp$")


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete the temporary files that write_atomic calls on this host left behind when
    their process was killed (kill -9 between create and rename). Files of live processes,
    of other hosts and of anything else are left alone."""
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _TEMPORARY.match(entry.name)
        if match is None or match["host"] != _WRITER_TAG or _process_alive(int(match["pid"])):
            continue
        with contextlib.suppress(OSError):
            entry.unlink()
            removed.append(entry)
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or not a pid this system can have: leave it
    return True


def check_writable_folder(folder: Path, flag: str) -> None:
    """Files can be written in `folder` (or in the folders it would be created in):
    checked by creating and removing one in the nearest folder that exists, so that a
    run that fails later leaves no empty folder behind."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = f"{flag} {folder} is a file, not a folder" if existing == folder else f"{flag} {folder}: {existing} is a file, not a folder"
        raise OutputError(where)
    try:
        handle, probe = tempfile.mkstemp(dir=existing, prefix=f".lmms-eval-write-check.{_WRITER_TAG}-{os.getpid()}-", suffix=".tmp")
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise OutputError(f"{flag} {folder}: cannot write there ({error.strerror or error})") from None


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "__dataclass_fields__"):
        return {name: getattr(value, name) for name in value.__dataclass_fields__}
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)
