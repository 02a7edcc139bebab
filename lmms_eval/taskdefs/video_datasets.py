"""Video datasets whose media ship as archives in the dataset repo (lmms-eval's `video: True`).

lmms-eval's convention, kept here: with `dataset_kwargs: {video: True, cache_dir: NAME}` the
whole dataset repo is snapshot-downloaded (huggingface_hub), and every `*.zip` and `*.tar*`
in it is extracted into `$HF_HOME/NAME`, where task code then finds the videos
(`resolve_media_reference(..., cache_dir=NAME)`, or its own `HF_HOME` join). Split tar parts
(`videos.tar.part.aa`, `.ab`, ...) are one archive: parts that share the name before ".tar"
are read in sorted order as one stream.

What this module adds over lmms-eval: extraction is recorded by a marker file in the cache
folder, so a second run never extracts again, and an interrupted one (a second marker says
extraction is under way) does. A folder that lmms-eval itself extracted (non-empty, no
markers) is used as it is. `force_unzip: true` extracts again.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import tarfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lmms_eval.errors import DatasetLoadError

logger = logging.getLogger(__name__)

DONE_MARKER = ".lmms_eval_extracted.json"  # written last: the archives it lists are fully extracted
BUSY_MARKER = ".lmms_eval_extracting"  # written first: its presence means an interrupted extraction


@dataclass(frozen=True)
class VideoDatasetSettings:
    """The `dataset_kwargs` flags that concern the media archives (lmms-eval's names)."""

    cache_dir: str
    force_download: bool = False
    force_unzip: bool = False
    local_files_only: bool = False
    create_link: bool = False
    revision: str | None = None
    token: bool | str | None = None

    @classmethod
    def from_dataset_kwargs(cls, task: str, kwargs: Mapping[str, Any]) -> VideoDatasetSettings | None:
        """The settings when `video` is true, else None (then nothing is fetched)."""
        if not kwargs.get("video"):
            return None
        cache_dir = kwargs.get("cache_dir")
        if not isinstance(cache_dir, str) or not cache_dir.strip():
            raise DatasetLoadError(f"task {task}: dataset_kwargs video: true needs cache_dir (the folder under $HF_HOME the videos are extracted to)")
        token = kwargs.get("token")
        return cls(
            cache_dir=cache_dir,
            force_download=bool(kwargs.get("force_download", False)),
            force_unzip=bool(kwargs.get("force_unzip", False)),
            local_files_only=bool(kwargs.get("local_files_only", False)),
            create_link=bool(kwargs.get("create_link", False)),
            revision=kwargs.get("revision"),
            token=token if isinstance(token, (bool, str)) else None,
        )


@dataclass(frozen=True)
class PreparedMedia:
    """Where a task's videos are, and what it took to put them there."""

    folder: Path  # $HF_HOME/<cache_dir>
    snapshot: Path
    extracted: tuple[str, ...]  # archive names extracted by this call ("" when none)
    media_bytes: int  # size of the files under `folder`


def hf_home() -> Path:
    return Path(os.path.expanduser(os.environ.get("HF_HOME") or "~/.cache/huggingface"))


def media_cache_dir(cache_dir: str) -> Path:
    """`$HF_HOME/<cache_dir>`, as lmms-eval resolves it (`$VARS` and `~` expanded; an absolute
    `cache_dir` is used as it is)."""
    from lmms_eval.utils import resolve_cache_dir  # lazily: it imports loguru

    return Path(resolve_cache_dir(cache_dir, str(hf_home())))


def prepare_video_dataset(task: str, dataset_path: str, local_path: Path | None, settings: VideoDatasetSettings) -> PreparedMedia:
    """Fetch the dataset repo (unless it is a local folder) and extract its archives once."""
    snapshot = local_path if local_path is not None and local_path.is_dir() else _snapshot(task, dataset_path, settings)
    folder = media_cache_dir(settings.cache_dir)
    archives = _archives(snapshot)
    extracted: tuple[str, ...] = ()
    if settings.create_link and not archives:
        _link(snapshot, folder)
    elif archives:
        extracted = _extract_once(task, snapshot, archives, folder, force=settings.force_unzip)
    return PreparedMedia(folder=folder, snapshot=snapshot, extracted=extracted, media_bytes=_tree_bytes(folder))


def _snapshot(task: str, repo_id: str, settings: VideoDatasetSettings) -> Path:
    from huggingface_hub import snapshot_download

    try:
        path = snapshot_download(
            repo_id=repo_id,
            repo_type="dataset",
            revision=settings.revision,
            force_download=settings.force_download,
            local_files_only=settings.local_files_only,
            token=settings.token,
            etag_timeout=60,
        )
    except Exception as error:  # huggingface_hub raises many types; the user needs one line
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DatasetLoadError(f"task {task}: cannot fetch the video archives of dataset '{repo_id}': {message}") from error
    return Path(path)


# --- archives ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Archive:
    name: str  # relative to the snapshot; for split tar parts, the shared name + ".tar"
    parts: tuple[Path, ...]  # one file, or the tar parts in sorted order
    kind: str  # "zip" or "tar"

    @property
    def size(self) -> int:
        return sum(part.stat().st_size for part in self.parts)


# "x.tar", "x.tar.gz", "x.tar.part.aa": ".tar" ends the name or is followed by a suffix
# (not "x.target.json"); group 1 is the archive's name, shared by its split parts.
_TAR_NAME = re.compile(r"(.+?\.tar)(?:\..*)?$", re.IGNORECASE)


def _archives(snapshot: Path) -> list[_Archive]:
    """Every zip, and every tar (parts grouped by the name before ".tar"), in a stable order."""
    files = sorted(path for path in snapshot.rglob("*") if path.is_file() and ".git" not in path.relative_to(snapshot).parts)
    found = [_Archive(str(path.relative_to(snapshot)), (path,), "zip") for path in files if path.suffix.lower() == ".zip"]
    tar_groups: dict[str, list[Path]] = {}
    for path in files:
        tar_name = _TAR_NAME.match(path.name)  # the file's own name: a folder called "x.tar.d" is no archive
        if tar_name:
            tar_groups.setdefault(str(path.relative_to(snapshot).with_name(tar_name.group(1))), []).append(path)
    found += [_Archive(name, tuple(sorted(parts)), "tar") for name, parts in sorted(tar_groups.items())]
    return found


def _extract_once(task: str, snapshot: Path, archives: list[_Archive], folder: Path, *, force: bool) -> tuple[str, ...]:
    done = _read_done(folder)
    busy = (folder / BUSY_MARKER).exists()
    if not force and not busy and done is None and _has_files(folder):
        logger.info("%s: using the videos already in %s (no extraction marker; force_unzip: true extracts again)", task, folder)
        return ()
    wanted = {archive.name: archive.size for archive in archives}
    todo = archives if force or busy or done is None else [a for a in archives if done.get(a.name) != wanted[a.name]]
    if not todo:
        return ()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / BUSY_MARKER).write_text("extraction in progress; a run that finds this file extracts again\n", encoding="utf-8")
    for archive in todo:
        logger.info("%s: extracting %s into %s", task, archive.name, folder)
        try:
            _extract(archive, folder)
        except (OSError, zipfile.BadZipFile, tarfile.TarError) as error:
            raise DatasetLoadError(f"task {task}: cannot extract {snapshot / archive.name}: {error}") from error
    recorded = {} if force or busy or done is None else dict(done)
    recorded.update({archive.name: wanted[archive.name] for archive in todo})
    _write_done(folder, recorded)
    (folder / BUSY_MARKER).unlink()
    return tuple(archive.name for archive in todo)


def _extract(archive: _Archive, folder: Path) -> None:
    if archive.kind == "zip":
        with zipfile.ZipFile(archive.parts[0]) as opened:
            opened.extractall(folder)  # zipfile drops absolute paths and ".." components
        return
    with _ChainedReader(archive.parts) as stream, tarfile.open(fileobj=stream, mode="r|*") as opened:
        opened.extractall(folder, filter="data")  # no paths outside `folder`, no device files


class _ChainedReader(io.RawIOBase):
    """The concatenation of several files, read as one stream (split tar parts), without
    writing the joined archive anywhere: the snapshot may be read-only and is often large."""

    def __init__(self, parts: Iterable[Path]) -> None:
        self._pending = list(parts)
        self._current: io.BufferedReader | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while True:
            if self._current is None:
                if not self._pending:
                    return 0
                self._current = open(self._pending.pop(0), "rb")  # noqa: SIM115 - closed when exhausted
            count = self._current.readinto(buffer)
            if count:
                return count
            self._current.close()
            self._current = None

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None
        super().close()


def _link(snapshot: Path, folder: Path) -> None:
    """`create_link`: the cache folder is a symlink to the snapshot (nothing to extract)."""
    if folder.is_symlink():
        if folder.resolve() == snapshot.resolve():
            return
        folder.unlink()
    elif folder.exists():
        return  # a real folder is already there: keep it, as lmms-eval does
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.symlink_to(snapshot.resolve(), target_is_directory=True)


# --- markers and sizes ------------------------------------------------------------------------


def _read_done(folder: Path) -> dict[str, int] | None:
    try:
        recorded = json.loads((folder / DONE_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    archives = recorded.get("archives") if isinstance(recorded, dict) else None
    return {str(name): int(size) for name, size in archives.items()} if isinstance(archives, dict) else None


def _write_done(folder: Path, archives: Mapping[str, int]) -> None:
    temporary = folder / (DONE_MARKER + ".tmp")
    temporary.write_text(json.dumps({"archives": dict(sorted(archives.items()))}, indent=1) + "\n", encoding="utf-8")
    os.replace(temporary, folder / DONE_MARKER)


def _has_files(folder: Path) -> bool:
    return folder.is_dir() and any(True for _ in folder.iterdir())


def _tree_bytes(folder: Path) -> int:
    if not folder.exists():
        return 0
    # is_file() and stat() follow links: a linked snapshot's files are links to HF cache blobs.
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
