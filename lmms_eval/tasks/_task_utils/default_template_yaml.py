"""`load_default_template_yaml`: a task folder's `_default_template_yaml`, for its utils.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from lmms_eval.tasks._task_utils import names_from_users_copy

TEMPLATE_FILE_NAME = "_default_template_yaml"
_FUNCTION_TAG = "!function"


def load_default_template_yaml(task_file: str | Path) -> Any:
    """The template beside `task_file` (callers pass `__file__`), as plain data.

    Every line that contains `!function` anywhere is dropped first (also in a comment or
    a quoted value), so the keys that name task functions are missing and a plain YAML
    loader reads the rest; `include:` is not followed. An empty file gives None, a missing
    one FileNotFoundError. A folder passed instead of a file means its parent folder.
    """
    import yaml

    path = Path(task_file).parent / TEMPLATE_FILE_NAME
    with open(path, encoding="utf-8") as handle:
        kept = [line for line in handle if _FUNCTION_TAG not in line]
    return yaml.safe_load("".join(kept))


__getattr__ = names_from_users_copy(__name__)
