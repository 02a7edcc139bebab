"""Where the built-in benchmark library lives (a module of its own: the index and the YAML
reader both need it, and neither should import the other for it)."""

from __future__ import annotations

from pathlib import Path

BUILTIN_TASK_DIR = Path(__file__).resolve().parent.parent / "tasks"


def is_builtin(path: str | Path) -> bool:
    return Path(path).resolve().is_relative_to(BUILTIN_TASK_DIR)
