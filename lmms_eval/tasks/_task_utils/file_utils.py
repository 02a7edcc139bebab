"""`generate_submission_file`: where an aggregation function writes an extra file."""

from __future__ import annotations

import os
from typing import Any
from lmms_eval.tasks._task_utils import names_from_users_copy


def generate_submission_file(file_name: str, args: Any, subpath: str = "submissions") -> str:
    """The absolute path of `<folder>/<file_name>`, the folder being `subpath` under
    `args.output_path` (the `--output_path` value as given, not the per-model folder the
    results go to), or under the working directory when there is no `args` or no output
    path. The folder is created; the file and any folder inside `file_name` are not.

    `args` is read by attribute, as lmms-eval does: a dict, or an object without
    `output_path`, raises AttributeError.
    """
    output_path = None if args is None else args.output_path
    folder = subpath if output_path is None else os.path.join(output_path, subpath)
    os.makedirs(folder, exist_ok=True)
    return os.path.abspath(os.path.join(folder, file_name))


__getattr__ = names_from_users_copy(__name__)
