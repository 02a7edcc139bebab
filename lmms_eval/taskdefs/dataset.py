"""Loading a task's documents: local parquet files directly (lmms_eval.taskdefs.local_parquet)
when that gives the very docs `datasets` would, everything else through HF `datasets`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lmms_eval.errors import DatasetLoadError
from lmms_eval.taskdefs.config import TaskConfig
from lmms_eval.taskdefs import local_parquet

if TYPE_CHECKING:
    from lmms_eval.taskdefs.video_datasets import PreparedMedia

logger = logging.getLogger(__name__)

# lmms-eval dataset_kwargs that are instructions to the harness, not load_dataset arguments.
_HARNESS_FLAGS = frozenset(
    {
        "video", "cache_dir", "force_download", "force_unzip", "create_link", "local_files_only",
        "From_YouTube", "builder_script", "load_from_disk", "max_retries",
    }
)  # fmt: skip
_UNSUPPORTED_FLAGS = frozenset({"From_YouTube"})


def load_splits(config: TaskConfig) -> Any:
    """The task's `DatasetDict` (or a dict of split -> Dataset, or of split -> ParquetDocs)."""
    kwargs = dict(config.dataset_kwargs or {})
    unsupported = sorted(_UNSUPPORTED_FLAGS & {k for k, v in kwargs.items() if v})
    if unsupported:
        raise DatasetLoadError(f"task {config.task}: dataset_kwargs {', '.join(unsupported)} (media archives) are not supported yet")
    base_dir = Path(config.source).parent if config.source else Path.cwd()
    fetch_video_archives(config, kwargs, base_dir)
    load_kwargs = {k: v for k, v in kwargs.items() if k not in _HARNESS_FLAGS}
    if "data_files" in load_kwargs:
        load_kwargs["data_files"] = _resolve_data_files(load_kwargs["data_files"], base_dir)
    if "data_dir" in load_kwargs:
        load_kwargs["data_dir"] = str(_local_path(load_kwargs["data_dir"], base_dir))
    # Checked first: datasets reports an empty file as StopIteration or "An error occurred".
    empty = _empty_data_file(load_kwargs.get("data_files"))
    if empty is not None:
        raise DatasetLoadError(f"task {config.task} ({config.source}): data file {empty} has no rows: nothing to evaluate")
    direct = local_parquet.local_splits(config, kwargs, load_kwargs.get("data_files"), base_dir)
    if direct is not None:
        return direct
    import datasets

    try:
        if kwargs.get("load_from_disk"):
            return _audio_undecoded(datasets.load_from_disk(str(_local_path(config.dataset_path, base_dir))))
        path = config.dataset_path
        local = _local_path(path, base_dir)
        if local.exists():
            path = str(local)
        return _audio_undecoded(datasets.load_dataset(path, config.dataset_name, **load_kwargs))
    except DatasetLoadError:
        raise
    except Exception as error:  # datasets raises many types; the user needs one line
        raise DatasetLoadError(f"task {config.task} ({config.source}): cannot load dataset '{config.dataset_path}': {_one_line(error)}") from error


def fetch_video_archives(config: TaskConfig, kwargs: dict[str, Any], base_dir: Path) -> PreparedMedia | None:
    """`video: true`: the repo's archives extracted once under `$HF_HOME/<cache_dir>`."""
    if not kwargs.get("video"):
        return None  # (an image or text task does not import the archive code)
    from lmms_eval.taskdefs.video_datasets import VideoDatasetSettings, prepare_video_dataset

    settings = VideoDatasetSettings.from_dataset_kwargs(config.task, kwargs)
    if settings is None or kwargs.get("load_from_disk"):
        return None
    return prepare_video_dataset(config.task, config.dataset_path, _local_path(config.dataset_path, base_dir), settings)


def _audio_undecoded(splits: Any) -> Any:
    """Audio columns read as their stored bytes: datasets 5.x decodes `Audio` through
    torchcodec (torch + system FFmpeg), so `read_doc` decodes them with soundfile instead."""
    if not hasattr(splits, "keys"):  # load_from_disk of one split
        return _split_audio_undecoded(splits)
    for name in list(splits.keys()):
        splits[name] = _split_audio_undecoded(splits[name])
    return splits


def _split_audio_undecoded(split: Any) -> Any:
    import datasets

    for column, feature in (getattr(split, "features", None) or {}).items():
        if isinstance(feature, datasets.Audio) and feature.decode:
            split = split.cast_column(column, datasets.Audio(sampling_rate=feature.sampling_rate, decode=False))
    return split


def _one_line(error: BaseException) -> str:
    """The first line of the error, with its cause when the error itself says only that
    something failed (datasets: "An error occurred while generating the dataset")."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    cause = error.__cause__
    if cause is not None and str(cause).strip():
        message += f" ({type(cause).__name__}: {str(cause).strip().splitlines()[0]})"
    return message


def _empty_data_file(data_files: Any) -> str | None:
    """The first local data file with no rows, if any (cheap: a size, a parquet footer,
    or the text of a small file)."""
    for name in _file_names(data_files):
        path = Path(name)
        if path.is_file() and _has_no_rows(path):
            return str(path)
    return None


def _file_names(data_files: Any) -> list[str]:
    if isinstance(data_files, str):
        return [data_files]
    if isinstance(data_files, list):
        return [name for item in data_files for name in _file_names(item)]
    if isinstance(data_files, dict):
        return [name for files in data_files.values() for name in _file_names(files)]
    return []


def _has_no_rows(path: Path) -> bool:
    if path.stat().st_size == 0:
        return True
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(path).metadata.num_rows == 0
        except Exception:  # noqa: BLE001 - not readable as parquet: the load error says why
            return False
    if path.suffix in (".json", ".jsonl", ".csv", ".txt") and path.stat().st_size < 4096:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
        return text in ("", "[]") or (path.suffix == ".csv" and "\n" not in text)
    return False


def _local_path(path: str | None, base_dir: Path) -> Path:
    candidate = Path(path or "")
    if candidate.is_absolute() or not (base_dir / candidate).exists():
        return candidate
    return base_dir / candidate


def _resolve_data_files(data_files: Any, base_dir: Path) -> Any:
    """`data_files` paths are relative to the task YAML's folder."""
    if isinstance(data_files, str):
        return str(base_dir / data_files) if not Path(data_files).is_absolute() and "://" not in data_files else data_files
    if isinstance(data_files, list):
        return [_resolve_data_files(item, base_dir) for item in data_files]
    if isinstance(data_files, dict):
        return {split: _resolve_data_files(files, base_dir) for split, files in data_files.items()}
    return data_files


def split_of(splits: Any, name: str, config: TaskConfig) -> Any:
    if not hasattr(splits, "keys"):  # load_from_disk of a lone Dataset: `in` would scan its rows
        raise DatasetLoadError(f"task {config.task}: dataset has no named splits (load_from_disk needs a saved DatasetDict)")
    if name not in splits:
        available = ", ".join(splits.keys())
        raise DatasetLoadError(f"task {config.task}: dataset has no split '{name}' (it has: {available})")
    return splits[name]
