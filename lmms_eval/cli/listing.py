"""`--tasks list*`, `lmms-eval tasks` and `lmms-eval models`."""

from __future__ import annotations

from pathlib import Path

from lmms_eval.taskdefs.index import TaskIndex


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
    return columns(sorted(rows), ("Name", "Kind", "Defined in"))


def model_listing() -> str:
    from lmms_eval.models import MODELS

    rows = [(name, str(MODELS.target_of(name))) for name in MODELS.names()]
    return columns(rows, ("Model", "Implementation"))


def _short(path: str | Path) -> str:
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        parts = path.parts
        return str(Path(*parts[parts.index("tasks") :])) if "tasks" in parts else str(path)


def columns(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    if not rows:
        return f"(no {header[0].lower()}s)"
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in (header, *rows)]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
