"""`--cache_requests true|refresh|delete`: a task's built requests, kept between runs.

Building a request runs the task's functions on its doc (doc_to_text, doc_to_visual,
few-shot choice) and hashes its media for the key. The cache keeps, per task and
configuration, each doc's requests as data: type, index, key, prompt (media as kind and
digest), generation settings and continuation. A doc that could not be built is left out
(its file may be there next run), so a window holding one is built again each run.

On a re-run:
- a request without media is restored whole from the cache (its key is recomputed from
  the cached prompt and must match, so a cache written by other code is not trusted);
- a request with media becomes a `PendingRequest`: its key and prompt are known, so a
  `--use_cache` store answers it without the doc being read; only when it must be sent is
  the doc rendered again (and the fresh request sent).

The cache is used only when it holds every doc of the run's window: a partly cached task
is built afresh (and the cache extended), so the built requests never depend on which
docs were cached. Its name covers the task's configuration and prompt hash, the
content of the task's YAML file and the Python files beside it, the dataset's
fingerprint and size, the run's prompt settings, the chat flag and this package's version.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lmms_eval.api.messages import ChatMessages
from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.cache_dirs import user_cache_folder
from lmms_eval.engine.requests import RequestBuilder, UnbuiltDoc, iter_requests
from lmms_eval.taskdefs.rendering import BadDocInput, read_doc

logger = logging.getLogger(__name__)

# 2: keys of images stored as plain PNG hash the file (lmms_eval.media.stored_png);
# 3: each request's media files (videos, audio or images given as paths) with their size and mtime
CACHE_FORMAT = 3
CACHE_FOLDER_ENV = "LMMS_EVAL_REQUEST_CACHE"


def cache_folder() -> Path:
    """$LMMS_EVAL_REQUEST_CACHE, else $XDG_CACHE_HOME/lmms-eval/requests (~/.cache by default)."""
    return user_cache_folder(CACHE_FOLDER_ENV, "lmms-eval", "requests")


@dataclass(frozen=True)
class PendingRequest:
    """A cached request whose media are not loaded: enough for a store lookup (key, type,
    origin, generation settings) and for the samples log (prompt). `build()` renders the
    doc again when the request must be sent."""

    type: RequestType
    origin: Origin
    key: str
    prompt: Any
    gen_kwargs: Mapping[str, Any]
    rebuild: Callable[[Origin], Request | UnbuiltDoc] = field(compare=False, repr=False)

    def build(self) -> Request | UnbuiltDoc:
        return self.rebuild(self.origin)


class _Rebuilder:
    """Renders a doc again, once for all its pending requests."""

    def __init__(self, builder: RequestBuilder, docs: Any):
        self.builder, self.docs = builder, docs
        self._built: dict[int, dict[int, Request] | UnbuiltDoc] = {}

    def __call__(self, origin: Origin) -> Request | UnbuiltDoc:
        if origin.doc_id not in self._built:
            self._built[origin.doc_id] = self._render(origin.doc_id)
        built = self._built[origin.doc_id]
        if isinstance(built, UnbuiltDoc):
            return built
        request = built.pop(origin.index, None)
        if not built:
            del self._built[origin.doc_id]
        if request is None:  # the doc no longer makes this request (its cache entry is stale)
            reason = f"doc {origin.doc_id}: the request cache names request {origin.index}, which the doc no longer makes; run with --cache_requests refresh"
            return UnbuiltDoc(origin, reason, self.builder.task_hash)
        return request

    def _render(self, doc_id: int) -> dict[int, Request] | UnbuiltDoc:
        builder = self.builder
        try:
            requests = builder.compose(builder.task.render(doc_id, read_doc(self.docs, doc_id), builder.chat))
        except BadDocInput as bad:
            return UnbuiltDoc(Origin(builder.task_name, doc_id, 0), f"doc {doc_id}: {bad.reason}", builder.task_hash)
        return {request.origin.index: request for request in requests}


# --- the cache's name ------------------------------------------------------------------------


def cache_key(builder: RequestBuilder, docs: Any) -> str:
    """A hash of everything that shapes the task's requests."""
    task = builder.task
    parts = {
        "format": CACHE_FORMAT,
        "version": _package_version(),
        "task": builder.task_name,
        "prompt_hash": builder.task_hash,
        "config": json.dumps(task.config.to_dict(), sort_keys=True, default=str),
        "code": _source_digest(task.config.source),
        "docs": [getattr(docs, "_fingerprint", None), len(docs)],
        "settings": json.dumps(asdict(task.settings), sort_keys=True, default=str),
        "chat": builder.chat,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]


def _package_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("lmms-eval")
    except metadata.PackageNotFoundError:
        return "unknown"


def _source_digest(source: Any) -> str | None:
    """The task's YAML file and the Python files beside it (its `!function` code)."""
    if not source:
        return None
    path = Path(str(source))
    if not path.is_file():
        return None
    hasher = hashlib.sha256()
    for file in [path, *sorted(path.parent.glob("*.py"))]:
        with contextlib.suppress(OSError):
            hasher.update(file.name.encode() + b"\0" + file.read_bytes())
    return hasher.hexdigest()


def cache_path(builder: RequestBuilder, docs: Any) -> Path:
    return cache_folder() / f"{_safe(builder.task_name)}-{cache_key(builder, docs)}.json"


def _safe(name: str) -> str:
    return "".join(char if char.isalnum() or char in "._-" else "_" for char in name)


def delete_cached(task_name: str) -> int:
    """Remove every cache file of the task (any configuration); how many were removed."""
    removed = 0
    for path in cache_folder().glob(f"{_safe(task_name)}-*.json"):
        if path.name[len(_safe(task_name)) + 1 : -len(".json")].isalnum():
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
    return removed


# --- records --------------------------------------------------------------------------------


def _record(item: Request) -> dict[str, Any]:
    media = bool(item.visuals) or (item.is_chat and bool(item.context.media()))
    files = [media for media in (item.context.media() if item.is_chat else item.visuals) if isinstance(media, (str, os.PathLike))]
    return {
        "type": item.type.value,
        "index": item.origin.index,
        "key": item.key,
        "prompt": item.prompt,
        "continuation": item.continuation,
        "gen_kwargs": dict(item.gen_kwargs),
        "chat": item.is_chat,
        "media": media,
        "files": [[os.fspath(path), *_file_signature(path)] for path in files],
    }


def _file_signature(path: str | os.PathLike[str]) -> list[int]:
    """Size and modification time: a media file replaced in place (the same path) changes
    its request's key, so the cached key no longer stands."""
    try:
        stat = os.stat(path)
    except OSError:
        return [-1, -1]
    return [stat.st_size, stat.st_mtime_ns]


def _files_unchanged(record: dict[str, Any]) -> bool:
    return all(_file_signature(path) == [size, mtime] for path, size, mtime in record["files"])


def _restore(record: dict[str, Any], doc_id: int, builder: RequestBuilder, rebuild: _Rebuilder) -> Request | PendingRequest | None:
    """The cached item, or None when it does not restore to the same request."""
    kind, origin = RequestType(record["type"]), Origin(builder.task_name, doc_id, int(record["index"]))
    if not _files_unchanged(record):
        return None
    if record["media"]:
        return PendingRequest(kind, origin, record["key"], record["prompt"], record["gen_kwargs"], rebuild)
    context = ChatMessages.from_dicts(record["prompt"]) if record["chat"] else record["prompt"]
    request = Request(kind, origin, context, (), record["continuation"], record["gen_kwargs"], builder.task_hash)
    return request if request.key == record["key"] else None


# --- reading and writing ----------------------------------------------------------------------


def _read(path: Path) -> dict[str, Any]:
    """doc id (text) -> records; an unreadable file is an empty cache (it is rebuilt)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        logger.warning("request cache %s unreadable (%s); building the requests again", path, error)
        return {}
    return data.get("docs", {}) if isinstance(data, dict) and data.get("format") == CACHE_FORMAT else {}


def _write(path: Path, task: str, docs: dict[str, Any]) -> None:
    """Atomically (a reader never sees half a file); a cache that cannot be written only costs time."""
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump({"format": CACHE_FORMAT, "task": task, "docs": docs}, stream, ensure_ascii=False, default=str)
        os.replace(temporary, path)
    except OSError as error:
        logger.warning("request cache %s not written (%s)", path, error)
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


# --- the requests of a run ------------------------------------------------------------------


def cached_requests(builder: RequestBuilder, docs: Any, doc_ids: Sequence[int], mode: str | None) -> Iterator[Request | UnbuiltDoc | PendingRequest]:
    """The window's requests: built (`mode` None), from the cache, or built and cached."""
    if mode is None:
        yield from iter_requests(builder, docs, doc_ids)
        return
    if mode == "delete":
        removed = delete_cached(builder.task_name)
        logger.info("%s: request cache deleted (%d files); building the requests", builder.task_name, removed)
        yield from iter_requests(builder, docs, doc_ids)
        return
    path = cache_path(builder, docs)
    stored = _read(path) if mode == "true" else {}
    restored = _restore_window(stored, doc_ids, builder, _Rebuilder(builder, docs))
    if restored is not None:
        logger.info("%s: requests of %d docs from the request cache %s", builder.task_name, len(doc_ids), path)
        yield from restored
        return
    built: dict[str, list[dict[str, Any]]] = {}
    for item in iter_requests(builder, docs, doc_ids):
        # A doc that could not be built is not cached: the file it lacks may be there next
        # run, so the window stays uncovered and is built again rather than failing as cached.
        if not isinstance(item, UnbuiltDoc):
            built.setdefault(str(item.origin.doc_id), []).append(_record(item))
        yield item
    # Only a window read to its end is cached (a backend that stopped early left docs unbuilt).
    _write(path, builder.task_name, {**stored, **built})
    logger.info("%s: requests of %d docs built and cached in %s", builder.task_name, len(built), path)


def _restore_window(stored: dict[str, Any], doc_ids: Sequence[int], builder: RequestBuilder, rebuild: _Rebuilder) -> list[Any] | None:
    """Every request of the window from the cache, or None if any doc is missing or stale."""
    if not stored or any(str(doc_id) not in stored for doc_id in doc_ids):
        return None
    items: list[Any] = []
    for doc_id in doc_ids:
        entry = stored[str(doc_id)]
        for record in entry if isinstance(entry, list) else [entry]:  # a dict: a doc unbuilt in an older cache (stale)
            try:
                item = _restore(record, doc_id, builder, rebuild)
            except (KeyError, TypeError, ValueError):
                item = None
            if item is None:
                logger.info("%s: the request cache is stale (doc %d); building the requests again", builder.task_name, doc_id)
                return None
            items.append(item)
    return items
