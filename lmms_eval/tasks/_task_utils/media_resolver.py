"""`resolve_media_reference`: find the local file a dataset's video or audio column names.

Datasets often store a bare file name ("clip1", "videos/clip1.mp4") while the files were
unpacked somewhere under the Hugging Face cache. The search order is lmms-eval's:

1. the reference itself, `~` expanded, then as given, when it exists;
2. for each search root in turn, each sub-folder ("" first, then `extra_subdirs`), the
   reference's path and then its bare file name, each in its extension variants; the
   first existing path wins.

Search roots: the folders named by `env_vars` (non-empty ones), `$LMMS_EVAL_MEDIA_ROOT`,
`$HF_HOME` (default `~/.cache/huggingface`), and with `cache_dir`: `HF/cache_dir`,
`HF/datasets/cache_dir` and the media sub-folders listed below under both. Nothing found
gives the reference back unchanged, so the caller's own error names what is missing.
Non-strings, blank strings and http(s) URLs are returned unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from lmms_eval.tasks._task_utils import names_from_users_copy

MEDIA_ROOT_ENV = "LMMS_EVAL_MEDIA_ROOT"

# Tried, in this order, for a name without a suffix (each lower case, then upper case).
DEFAULT_EXTENSIONS = {
    "video": (".mp4", ".webm", ".mkv", ".mov", ".avi", ".flv", ".wmv"),
    "audio": (".wav", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".opus", ".webm"),
}
# Media sub-folders searched inside `HF/cache_dir` and inside `HF/datasets/cache_dir`.
_CACHE_SUBDIRS = {
    "video": (("video", "videos", "clips"), ("video", "videos")),
    "audio": (("audio", "audios", "clips"), ("audio", "audios")),
}


def resolve_media_reference(
    reference: Any,
    media_type: str = "video",
    cache_dir: str | None = None,
    env_vars: Iterable[str] = (),
    extra_subdirs: Iterable[str] = (),
) -> Any:
    if not isinstance(reference, str) or not reference.strip() or _is_url(reference):
        return reference
    value = reference.strip()
    for direct in (os.path.expanduser(value), value):
        if os.path.exists(direct):
            return direct
    subdirs = ("", *extra_subdirs)
    for root in _search_roots(media_type, cache_dir, env_vars):
        for subdir in subdirs:
            for candidate in _candidates(root / subdir, value, media_type):
                if candidate.exists():
                    return str(candidate)
    return reference


def _is_url(reference: str) -> bool:
    return reference.lower().startswith(("http://", "https://"))


def _search_roots(media_type: str, cache_dir: str | None, env_vars: Iterable[str]) -> Iterator[Path]:
    for name in (*env_vars, MEDIA_ROOT_ENV):
        if os.environ.get(name):
            yield Path(os.environ[name])
    hf_home = Path(os.environ.get("HF_HOME") or os.path.expanduser("~/.cache/huggingface"))
    yield hf_home
    if cache_dir:
        in_home, in_datasets = hf_home / cache_dir, hf_home / "datasets" / cache_dir
        yield in_home
        yield in_datasets
        home_subdirs, datasets_subdirs = _CACHE_SUBDIRS.get(media_type, ((), ()))
        yield from (in_home / subdir for subdir in home_subdirs)
        yield from (in_datasets / subdir for subdir in datasets_subdirs)


def _candidates(folder: Path, value: str, media_type: str) -> Iterator[Path]:
    for name in (value, os.path.basename(value)):
        for variant in _extension_variants(name, media_type):
            yield folder / variant


def _extension_variants(name: str, media_type: str) -> Iterator[str]:
    stem, suffix = os.path.splitext(name)
    if suffix:
        yield from (name, stem + suffix.lower(), stem + suffix.upper())
        return
    for extension in DEFAULT_EXTENSIONS.get(media_type, ()):
        yield from (name + extension.lower(), name + extension.upper())


__getattr__ = names_from_users_copy(__name__)
