"""Downloading and caching every dataset a task list needs, ahead of an offline run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lmms_eval.taskdefs.dataset import fetch_video_archives
from lmms_eval.taskdefs.index import Selection
from lmms_eval.taskdefs.local_parquet import ParquetDocs
from lmms_eval.taskdefs.rendering import undecodable_rows
from lmms_eval.taskdefs.task import PromptSettings, Task
from lmms_eval.taskdefs.video_datasets import PreparedMedia


@dataclass(frozen=True)
class PreparedSplit:
    task: str
    split: str
    rows: int
    cache_bytes: int
    undecodable: tuple[tuple[int, str], ...] = ()  # (doc id, reason): rows a run records as bad_input failures
    media_folder: str | None = None  # $HF_HOME/<cache_dir> of a `video: true` dataset
    media_bytes: int = 0  # what its extracted archives hold
    read_in_place: bool = False  # local parquet files read directly (local_parquet.py): nothing to cache


def prepare(selection: Selection) -> Iterator[PreparedSplit]:
    """Load each task's evaluation split (and few-shot split, if it has one) through the
    same code a run uses, so the HF cache holds exactly what a later offline run reads.
    Every row's media are decoded once, so rows a run could not ask about are known now."""
    for config in selection.configs.values():
        task = Task(config, PromptSettings())
        splits = [config.eval_split]
        if config.num_fewshot and (config.fewshot_split or config.training_split):
            splits.append(config.fewshot_split or config.training_split)  # type: ignore[arg-type]
        for split in dict.fromkeys(splits):
            docs = task.split(split)  # a `video: true` dataset's archives are extracted here, once
            media = _media(config)
            yield PreparedSplit(
                task.name, split, len(docs), _cache_bytes(docs), tuple(undecodable_rows(docs)),
                str(media.folder) if media else None, media.media_bytes if media else 0, isinstance(docs, ParquetDocs),
            )  # fmt: skip


def _media(config: Any) -> PreparedMedia | None:
    """The extracted media folder and its size (the markers make this a lookup, not a second extraction)."""
    base_dir = Path(config.source).parent if config.source else Path.cwd()
    # Loading the split just extracted the archives: force_unzip must not extract them again here.
    kwargs = {**(config.dataset_kwargs or {}), "force_unzip": False}
    return fetch_video_archives(config, kwargs, base_dir)


def _cache_bytes(docs: Any) -> int:
    files = {entry["filename"] for entry in getattr(docs, "cache_files", []) or []}
    return sum(Path(name).stat().st_size for name in files if Path(name).exists())
