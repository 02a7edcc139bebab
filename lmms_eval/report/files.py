"""Writing output files atomically, with secrets removed."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from lmms_eval.errors import OutputError
from lmms_eval.redaction import REDACTED, SECRET_ENVIRONMENT, Redactor  # noqa: F401 - re-exported for the writers


def to_json_text(data: Any, redact: Redactor, indent: int | None = 2) -> str:
    return redact(json.dumps(data, indent=indent, ensure_ascii=False, default=_json_default))


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None


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
