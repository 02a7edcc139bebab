"""`--tasks list*`, `lmms-eval tasks` and `lmms-eval models`.

Lines are plain text, never wrapped or cut to a terminal's width, so they can be piped
into grep or a file whole."""

from __future__ import annotations

from pathlib import Path

from lmms_eval.taskdefs.index import TaskIndex
from lmms_eval.taskdefs.library import BUILTIN_TASK_DIR, is_builtin


def task_listing(index: TaskIndex, what: str = "list") -> str:
    if what == "list_groups":
        return columns([(name, _short(config.source)) for name, config in sorted(index.groups.items())], ("Group", "File"))
    if what == "list_tags":
        return columns([(tag, ", ".join(sorted(tasks))) for tag, tasks in sorted(index.tags.items())], ("Tag", "Tasks"))
    if what == "list_subtasks":
        return columns([(name, _short(path)) for name, (path, _) in sorted(index.tasks.items())], ("Task", "File"))
    rows = [(name, "group", _short(config.source)) for name, config in index.groups.items()]
    rows += [(name, "task", _short(path)) for name, (path, _) in index.tasks.items()]
    rows += [(name, "tag", f"{len(tasks)} tasks") for name, tasks in index.tags.items()]
    return columns(sorted(rows), ("Name", "Kind", "Defined in")) + broken_section(index)


def broken_section(index: TaskIndex) -> str:
    """The files the index skipped, one plain line each, after the table."""
    if not index.broken:
        return ""
    lines = [f"broken  {entry.message}" for entry in index.broken]
    header = f"{len(index.broken)} task files could not be read and are skipped (`lmms-eval tasks check all` checks every task):"
    return "\n\n" + "\n".join([header, *lines])


def model_listing() -> str:
    from lmms_eval.models import MODELS

    rows = [(name, str(MODELS.target_of(name))) for name in MODELS.names()]
    return columns(rows, ("Model", "Implementation"))


def _short(path: str | Path) -> str:
    """A built-in file as `tasks/<family>/<file>`; yours relative to the working directory
    when under it, else in full (so the two are never confused)."""
    path = Path(path).resolve()
    if is_builtin(path):
        return str(path.relative_to(BUILTIN_TASK_DIR.parent))
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def columns(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    if not rows:
        return f"(no {header[0].lower()}s)"
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in (header, *rows)]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
