"""An on-disk cache of what the task index read from each YAML, so that a run does not parse
the ~250 files of the built-in library (or a large `--include_path`) again.

One cache file per scanned folder holds, for each YAML, the merged result of its `include`
chain and everything that result was read from: the files (each by device, inode, size,
mtime and ctime) and the paths whose existence chose a value. An entry is used only while
all of these are unchanged, so an edited, added or removed file is read again; the
folder's file list is always taken afresh. Files changed in the last few seconds are not
cached (their timestamps could repeat for a second edit: "racy" entries, as git calls
them). Files that could not be read are never cached.

The cache is an optimisation only: an unreadable, corrupt or foreign cache file is
ignored and rewritten, and a folder it cannot write to means no cache, not an error.
Folder: $LMMS_EVAL_TASK_INDEX_CACHE, else $XDG_CACHE_HOME/lmms-eval/task-index
(~/.cache by default).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import logging
import os
import pickle
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lmms_eval.cache_dirs import user_cache_folder
from lmms_eval.taskdefs.yaml_io import ReadInputs

logger = logging.getLogger(__name__)

CACHE_FOLDER_ENV = "LMMS_EVAL_TASK_INDEX_CACHE"
# A file whose mtime or ctime is this recent may still change within the same timestamp.
RACY_SECONDS = 2.0
# At most this many folders' caches are kept (the least recently written go first): test
# suites and scripts index many short-lived folders.
MAX_CACHE_FILES = 64
_FORMAT = 1

Signature = tuple[int, int, int, int, int]  # st_dev, st_ino, st_size, st_mtime_ns, st_ctime_ns


def cache_folder() -> Path:
    """$LMMS_EVAL_TASK_INDEX_CACHE, else $XDG_CACHE_HOME/lmms-eval/task-index (~/.cache by default)."""
    return user_cache_folder(CACHE_FOLDER_ENV, "lmms-eval", "task-index")


@dataclass(frozen=True)
class _Entry:
    raw: dict[str, Any]  # what IncludeReader.load returned
    files: tuple[tuple[str, Signature], ...]
    probes: tuple[tuple[tuple[str, str], bool], ...]


@dataclass
class FolderCache:
    """The cached entries of one scanned folder (or single YAML given as `--include_path`)."""

    path: Path | None  # the cache file; None: caching is off for this folder
    entries: dict[str, _Entry] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    changed: bool = False
    _signatures: dict[str, Signature | None] = field(default_factory=dict)  # stat once per build

    @classmethod
    def open(cls, root: Path) -> FolderCache:
        try:
            path = cache_folder() / f"{_root_key(root)}.pickle"
        except (RuntimeError, OSError):  # no home folder to find: no cache
            return cls(None)
        return cls(path, _read_entries(path))

    def get(self, path: Path) -> dict[str, Any] | None:
        """The file's cached result, when everything it was read from is as it was."""
        key = str(path)
        entry = self.entries.get(key)
        if entry is None or not self._still_valid(entry):
            return None
        self.used.add(key)
        return entry.raw

    def put(self, path: Path, raw: dict[str, Any], inputs: ReadInputs) -> None:
        """Remember a file's result (a deep copy is not needed: the cache pickles it)."""
        key = str(path)
        files = tuple((str(file), self._signature(str(file))) for file in inputs.files)
        if any(signature is None or _racy(signature) for _, signature in files):
            self.changed |= self.entries.pop(key, None) is not None
            return
        self.entries[key] = _Entry(raw, files, tuple(inputs.probes.items()))  # type: ignore[arg-type]
        self.used.add(key)
        self.changed = True

    def save(self) -> None:
        """Write the entries of the files seen in this scan (removed files drop out)."""
        if self.path is None:
            return
        kept = {key: entry for key, entry in self.entries.items() if key in self.used}
        if not self.changed and len(kept) == len(self.entries):
            return
        if not kept and not self.path.exists():
            return
        try:
            _write_atomically(self.path, pickle.dumps((_FORMAT, _code_key(), kept), protocol=pickle.HIGHEST_PROTOCOL))
            _evict_oldest(self.path.parent)
        except (OSError, pickle.PicklingError, TypeError, RecursionError) as error:  # read-only home, full disk: the index works without it
            logger.debug("task index cache not written (%s): %s", self.path, error)

    def _still_valid(self, entry: _Entry) -> bool:
        if any(self._signature(file) != signature for file, signature in entry.files):
            return False
        return all(_probe(path, kind) == found for (path, kind), found in entry.probes)

    def _signature(self, file: str) -> Signature | None:
        if file not in self._signatures:
            self._signatures[file] = _stat_signature(file)
        return self._signatures[file]


def _stat_signature(file: str) -> Signature | None:
    try:
        info = os.stat(file)  # follows links: a re-pointed link gives another inode
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _racy(signature: Signature) -> bool:
    newest = max(signature[3], signature[4]) / 1e9
    return newest > time.time() - RACY_SECONDS


def _probe(path: str, kind: str) -> bool:
    return os.path.isfile(path) if kind == "file" else os.path.exists(path)


def _root_key(root: Path) -> str:
    return hashlib.sha256(str(root.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:32]


@functools.cache
def _code_key() -> str:
    """What else shapes an entry: this code's files (a checkout edited in place keeps its
    version number), PyYAML's (found, not imported: a fully cached index needs no YAML
    parser) and the Python that pickled it."""
    from lmms_eval.taskdefs import functions, library, yaml_io

    yaml_spec = importlib.util.find_spec("yaml")
    files = [module.__file__ for module in (sys.modules[__name__], yaml_io, functions, library)]
    parts = [sys.version, str(_FORMAT), *[str(file) for file in files], str(yaml_spec.origin if yaml_spec else None)]
    parts.extend(str(_stat_signature(str(file))) for file in parts[2:])
    return "\n".join(parts)


def _read_entries(path: Path) -> dict[str, _Entry]:
    """The cache file's entries; nothing when it is missing, another version's, not the
    user's own (it is unpickled), or unreadable in any way."""
    try:
        with path.open("rb") as handle:
            if os.fstat(handle.fileno()).st_uid != os.getuid():
                return {}
            data = handle.read()
    except OSError:
        return {}
    try:
        version, code, entries = pickle.loads(data)
    except Exception:  # noqa: BLE001 - a corrupt file can raise almost anything from unpickling
        logger.debug("task index cache %s is unreadable: rebuilt", path)
        return {}
    if version != _FORMAT or code != _code_key() or not isinstance(entries, dict):
        return {}
    return {key: entry for key, entry in entries.items() if isinstance(key, str) and isinstance(entry, _Entry)}


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)  # readers see the old file or the new one, never half of one
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _evict_oldest(folder: Path) -> None:
    files = sorted(folder.glob("*.pickle"), key=lambda file: file.stat().st_mtime_ns)
    for stale in files[:-MAX_CACHE_FILES]:
        stale.unlink(missing_ok=True)
