"""lmms-eval's `lmms_eval.utils` names that task files import.

- `eval_logger` is loguru's logger itself (task files also import it straight from loguru);
- `resolve_cache_dir` places a dataset's `cache_dir` under a base folder ($HF_HOME);
- `sanitize_model_name` is lmms-eval's folder name for a model id. It is not the one this
  project uses for its own output folders (lmms_eval/report/results.py), which also
  replaces every other non-file-name character: task code that rebuilds lmms-eval's
  paths needs lmms-eval's rule.
"""

from __future__ import annotations

import os
import re

from loguru import logger as eval_logger

__all__ = ["eval_logger", "resolve_cache_dir", "sanitize_model_name"]

# Runs of characters that are not allowed (or not wanted) in a folder name.
_UNSAFE_RUN = re.compile(r'["<>:/|\\?*\[\]]+')


def resolve_cache_dir(cache_dir: str, base_dir: str | None = None) -> str:
    """`$VARS` and `~` expanded (unset variables stay as written); a relative result is
    joined to `base_dir` when one is given."""
    expanded = os.path.expanduser(os.path.expandvars(cache_dir))
    if base_dir is not None and not os.path.isabs(expanded):
        return os.path.join(base_dir, expanded)
    return expanded


def sanitize_model_name(model_name: str, full_path: bool = False) -> str:
    """The last two `/`-parts of the name (all of it with `full_path`), each run of
    unsafe characters replaced by `__`: `org/model` -> `org__model`."""
    name = model_name if full_path else "/".join(model_name.split("/")[-2:])
    return _UNSAFE_RUN.sub("__", name)
