"""Writing output files atomically, with secrets removed."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lmms_eval.errors import OutputError

REDACTED = "<redacted>"
# Environment variables whose values are credentials wherever they appear.
SECRET_ENVIRONMENT = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "WANDB_API_KEY")
_MIN_SECRET_LENGTH = 4  # shorter values would blank out ordinary text


class Redactor:
    """Replaces known secret values in any text that leaves the process."""

    def __init__(self, secrets: Iterable[str] = ()):
        found = {str(s) for s in secrets if s and len(str(s)) >= _MIN_SECRET_LENGTH}
        found |= {os.environ[name] for name in SECRET_ENVIRONMENT if len(os.environ.get(name, "")) >= _MIN_SECRET_LENGTH}
        # Also as JSON escapes them (quotes, backslashes), since redaction runs on JSON text.
        found |= {json.dumps(secret)[1:-1] for secret in found}
        # Longest first, so a secret that contains another is removed whole.
        ordered = sorted(found, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(s) for s in ordered)) if ordered else None

    def __call__(self, text: str) -> str:
        return self._pattern.sub(REDACTED, text) if self._pattern else text


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
