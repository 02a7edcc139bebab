"""Shared by the video multiple-choice tasks: where a doc's video is, and lettered options.

Video datasets on the Hub ship their media as archives that `video: True` extracts under
`$HF_HOME/<dataset_kwargs.cache_dir>` (`taskdefs/video_datasets.py`); the dataset rows name
each video relative to that folder. A task reads its YAML's cache_dir with
`_common.video.yaml_cache_dir`, and `cached_video` finds the video there, in the sub-folders
the task gives: the exact path first (frame folders have no suffix to vary), then
lmms-eval's search (`resolve_media_reference`, extension variants included).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from lmms_eval.taskdefs.video_datasets import media_cache_dir
from lmms_eval.tasks._task_utils.media_resolver import resolve_media_reference

OPTION_LETTERS = "ABCDEFGH"


def cached_video(reference: str, cache_dir: str, subfolders: Iterable[str] = ("",)) -> str:
    """The local path of `reference` (a file or a frame folder) under `$HF_HOME/cache_dir`,
    searched in each of `subfolders` in turn. When it is nowhere, the path where the first
    sub-folder would hold it: the request then fails as bad input naming that path."""
    folders = tuple(subfolders) or ("",)
    root = media_cache_dir(cache_dir)
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
