"""Finding a video task's files: the folder its archives were extracted to, and a doc's video.

lmms-eval task files join `$HF_HOME` and their own YAML's `dataset_kwargs.cache_dir`; the
helpers here do the same (with `include:` followed), so a task finds its videos whether
`video: true` extracted them in this run, an earlier one, or the user unpacked them by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from lmms_eval.taskdefs.video_datasets import media_cache_dir


@lru_cache(maxsize=None)
def yaml_cache_dir(yaml_path: str | Path) -> str | None:
    """`dataset_kwargs.cache_dir` of a task YAML (includes merged), or None."""
    from lmms_eval.taskdefs.yaml_io import load_with_includes

    kwargs = load_with_includes(Path(yaml_path)).get("dataset_kwargs") or {}
    cache_dir = kwargs.get("cache_dir") if isinstance(kwargs, dict) else None
    return cache_dir if isinstance(cache_dir, str) and cache_dir.strip() else None


def video_folder(yaml_path: str | Path) -> Path:
    """`$HF_HOME/<cache_dir>` of the task YAML (ValueError when it sets no cache_dir)."""
    cache_dir = yaml_cache_dir(str(yaml_path))
    if cache_dir is None:
        raise ValueError(f"{yaml_path} sets no dataset_kwargs.cache_dir: its videos have no folder")
    return media_cache_dir(cache_dir)


def find_media(reference: Any, yaml_path: str | Path, subdirs: Iterable[str] = (), media_type: str = "video") -> Any:
    """A doc's media file: the reference itself when it exists, else the first match under
    `$HF_HOME/<cache_dir>` and its `subdirs` (lmms-eval's search, extension variants included).
    Nothing found gives the reference back: the request then fails naming the missing file."""
    from lmms_eval.tasks._task_utils.media_resolver import resolve_media_reference

    return resolve_media_reference(reference, media_type, cache_dir=yaml_cache_dir(str(yaml_path)), extra_subdirs=tuple(subdirs))
