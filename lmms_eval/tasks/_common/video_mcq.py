"""Shared by the video multiple-choice tasks: where a doc's video is, and lettered options.

Video datasets on the Hub ship their media as archives that the harness extracts under
`$HF_HOME/<dataset_kwargs.cache_dir>` (lmms-eval's convention, `video: True`); the dataset
rows name each video relative to that folder. `cached_video` finds it there, in the
sub-folder the task gives, through the same search lmms-eval's task files use
(`resolve_media_reference`: exact name, then extension variants).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from lmms_eval.tasks._task_utils.media_resolver import resolve_media_reference

OPTION_LETTERS = "ABCDEFGH"


def hf_home() -> Path:
    return Path(os.path.expanduser(os.environ.get("HF_HOME") or "~/.cache/huggingface"))


def cached_video(reference: str, cache_dir: str, subfolders: Iterable[str] = ("",)) -> str:
    """The local path of `reference` (a file or a frame folder) under `$HF_HOME/cache_dir`,
    searched in each of `subfolders` in turn. When it is nowhere, the path where the first
    sub-folder would hold it: the request then fails as bad input naming that path."""
    folders = tuple(subfolders) or ("",)
    root = hf_home() / cache_dir
    for folder in folders:
        exact = root / folder / reference  # also a frame folder, which has no suffix to vary
        if exact.exists():
            return str(exact)
        found = resolve_media_reference(os.path.join(folder, reference) if folder else reference, "video", cache_dir=cache_dir)
        if isinstance(found, str) and os.path.exists(found):
            return found
    return str(root / folders[0] / reference)


def lettered(options: Sequence[str], template: str) -> list[str]:
    """Each option with its letter, e.g. template "({letter}) {option}" or "{letter}. {option}"."""
    return [template.format(letter=OPTION_LETTERS[i], option=option) for i, option in enumerate(options)]
