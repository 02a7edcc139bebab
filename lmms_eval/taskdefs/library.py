"""Where the built-in benchmark library lives, and where `lmms_eval.tasks.<folder>` imports
look (a module of its own: the index and the YAML reader both need it, and neither should
import the other for it)."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path

BUILTIN_TASK_DIR = Path(__file__).resolve().parent.parent / "tasks"


def is_builtin(path: str | Path) -> bool:
    return Path(path).resolve().is_relative_to(BUILTIN_TASK_DIR)


def set_task_roots(include_paths: Iterable[str | Path]) -> list[str]:
    """Put the `--include_path` folders on `lmms_eval.tasks.__path__`, ahead of the built-in
    library, and return the new search path.

    lmms-eval task files import their own folder by absolute path
    (`from lmms_eval.tasks.mme.utils import ...`). With the user's folders searched first,
    that finds the user's `mme/utils.py`. Each folder and the folder above it are searched,
    so both `--include_path my_tasks` (holding `mme/`) and `--include_path my_tasks/mme`
    work. Task folders without `__init__.py` are namespace packages: a folder named like a
    built-in one merges with it, the user's files first. The project's own packages under
    `lmms_eval/tasks` (`_task_utils`, `_common`: regular packages, with `__init__.py`) win
    over same-named plain folders of a user's copy, as Python gives a regular package
    precedence over namespace portions.
    """
    import lmms_eval.tasks as package

    folders = [Path(p).resolve() for p in include_paths]
    folders = [folder if folder.is_dir() else folder.parent for folder in folders]
    entries: list[str] = []
    for entry in [*folders, *(folder.parent for folder in folders), BUILTIN_TASK_DIR]:
        if str(entry) not in entries:
            entries.append(str(entry))
    package.__path__[:] = entries  # one search path per index: a new build replaces the last one
    _add_users_task_utils(folders)
    importlib.invalidate_caches()  # task folders written after the last import are seen
    return entries


def _add_users_task_utils(folders: list[Path]) -> None:
    """Search users' copies of `_task_utils` after this project's own: modules it lacks come
    from the copy, and its modules take names they lack from it (`names_from_users_copy`)."""
    import lmms_eval.tasks._task_utils as task_utils

    own = str(BUILTIN_TASK_DIR / "_task_utils")
    copies = [str(folder / "_task_utils") for folder in folders if (folder / "_task_utils").is_dir()]
    task_utils.__path__[:] = [own, *[copy for copy in dict.fromkeys(copies) if copy != own]]
