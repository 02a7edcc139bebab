"""What one doc asks and expects, rendered once by its task (`Task.render`).

The request builder composes a `RenderedDoc` into requests (few-shot layout, system
prompt, chat or plain text) without calling back into the task, so task code runs once
per doc and in one place.
"""

from __future__ import annotations

import weakref

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lmms_eval.api.messages import ChatMessages
from lmms_eval.taskdefs.local_parquet import ImageDecodeError, ParquetColumn, ParquetDocs


@dataclass(frozen=True)
class FewshotExample:
    """One worked example shown before the question: its question and its gold answer."""

    question: str
    answer: str


@dataclass(frozen=True)
class RenderedDoc:
    """One doc, rendered: either the task's own chat `messages` (used as they are), or a
    `text` prompt with its `visuals`; plus what the output type needs to ask."""

    doc_id: int
    text: str | None = None
    visuals: tuple[Any, ...] = ()
    messages: ChatMessages | None = None
    examples: tuple[FewshotExample, ...] = ()
    target_text: str | None = None  # loglikelihood: the continuation after the delimiter
    choices: tuple[str, ...] = ()  # multiple_choice: one continuation per choice


class BadDocInput(Exception):
    """A doc's inputs cannot be built (an image that does not decode, a media file that
    cannot be read). The doc becomes a recorded failure; the other docs still run."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def read_doc(docs: Any, doc_id: int, what: str = "") -> dict[str, Any]:
    """`docs[doc_id]`. HF `datasets` decodes media when a row is read, so a corrupt image
    fails here: that is bad input of this doc, named by column, not a crash. Images stored
    as plain PNG files are opened lazily instead (lmms_eval.media.stored_png): their pixels
    are decoded only if task code reads them. Docs read directly from local parquet files
    (lmms_eval.taskdefs.local_parquet) follow the same rules without `datasets`."""
    if isinstance(docs, ParquetDocs):
        try:
            return docs.row(doc_id, lazy_png=True)
        except ImageDecodeError as failure:
            raise BadDocInput(f"{what}{_image_reason(failure.column, failure.error)}") from failure.error
    columns = _media_columns(docs)
    if columns is None:
        return docs[doc_id]
    try:
        doc = _read_row(columns, docs, doc_id)
    except Exception as error:  # noqa: BLE001 - decoders raise many types (OSError, SyntaxError, ...)
        raise BadDocInput(f"{what}{undecodable_reason(docs, doc_id, error)}") from error
    return _decode_audio_columns(columns.audio, doc, what)


@dataclass(frozen=True)
class _MediaColumns:
    """How a dataset's rows are read: its undecoded audio columns ({column: sampling
    rate}, see `dataset._audio_undecoded`), and its top-level image columns with a view of
    the dataset in which they are not decoded (None when it has none)."""

    audio: dict[str, int | None]
    images: tuple[str, ...] = ()
    undecoded_images: Any = None


# Per dataset object: `Dataset.features` deep-copies the schema on every access, which
# cost more than reading the row itself when it was asked for each doc.
_MEDIA_COLUMNS: dict[int, tuple[weakref.ref[Any], _MediaColumns]] = {}


def _media_columns(docs: Any) -> _MediaColumns | None:
    """None when `docs` is not a `datasets.Dataset`."""
    cached = _MEDIA_COLUMNS.get(id(docs))
    if cached is not None and cached[0]() is docs:
        return cached[1]
    features = getattr(docs, "features", None)
    if features is None:
        return None
    import datasets

    audio = {name: feature.sampling_rate for name, feature in features.items() if isinstance(feature, datasets.Audio) and not feature.decode}
    # A declared mode converts every image on decoding: such columns are decoded as before.
    images = tuple(name for name, feature in features.items() if isinstance(feature, datasets.Image) and feature.decode and not feature.mode)
    undecoded = None
    if images and hasattr(docs, "cast_column"):
        undecoded = docs
        for name in images:
            undecoded = undecoded.cast_column(name, datasets.Image(decode=False))
    columns = _MediaColumns(audio, images if undecoded is not None else (), undecoded)
    for key in [key for key, (ref, _) in _MEDIA_COLUMNS.items() if ref() is None]:
        del _MEDIA_COLUMNS[key]  # a freed dataset's view of its tables goes with it
    try:
        _MEDIA_COLUMNS[id(docs)] = (weakref.ref(docs), columns)
    except TypeError:  # an object without weak references: asked again next time
        pass
    return columns


def _read_row(columns: _MediaColumns, docs: Any, doc_id: int) -> dict[str, Any]:
    """The row with its plain-PNG images opened lazily; a row holding any other image is
    read (and decoded) by `datasets` as it always was."""
    if columns.undecoded_images is None:
        return docs[doc_id]
    from lmms_eval.media.stored_png import open_if_plain

    row = columns.undecoded_images[doc_id]
    return row if open_if_plain(row, columns.images) else docs[doc_id]


def _decode_audio_columns(audio_columns: dict[str, int | None], doc: dict[str, Any], what: str) -> dict[str, Any]:
    """Decode undecoded audio with soundfile, at the column's declared rate, into
    lmms-eval's {array, sampling_rate, path}."""
    for column, sampling_rate in audio_columns.items():
        if doc.get(column) is None:
            continue
        from lmms_eval.media.audio import AudioDecodeError, load_audio

        try:
            waveform = load_audio(doc[column], sampling_rate)
        except AudioDecodeError as error:
            raise BadDocInput(f"{what}cannot decode audio (column '{column}'): {error}") from error
        doc[column] = {"path": doc[column].get("path"), **waveform.as_dict()}
    return doc


def undecodable_rows(docs: Any, batch_size: int = 64) -> Iterator[tuple[int, str]]:
    """(doc id, reason) for each row whose media do not decode, as a run would meet them.
    Only the media columns are read, a batch at a time; a failing batch is read again row
    by row to find its bad rows."""
    if isinstance(docs, ParquetDocs):
        for doc_id, column, error in docs.undecodable_images():
            yield doc_id, _image_reason(column, error)
        return
    features = getattr(docs, "features", None)
    columns = [name for name, feature in (features or {}).items() if media_kind(feature) is not None]
    if not columns:
        return
    media = docs.select_columns(columns)
    for start in range(0, len(media), batch_size):
        stop = min(start + batch_size, len(media))
        try:
            media[start:stop]
        except Exception:  # noqa: BLE001
            for doc_id in range(start, stop):
                try:
                    media[doc_id]
                except Exception as error:  # noqa: BLE001
                    yield doc_id, undecodable_reason(docs, doc_id, error)


def undecodable_reason(docs: Any, doc_id: int, error: Exception) -> str:
    """Which media column of the row fails to decode, and why."""
    for name, feature in docs.features.items():
        kind = media_kind(feature)
        if kind is None:
            continue
        try:
            docs.select_columns([name])[doc_id]
        except Exception as column_error:  # noqa: BLE001
            return f"cannot decode {kind} (column '{name}'): {decode_message(column_error)}"
    return f"cannot decode the row: {decode_message(error)}"


def _image_reason(column: str, error: Exception) -> str:
    return f"cannot decode image (column '{column}'): {decode_message(error)}"


def decode_message(error: Exception) -> str:
    from PIL import UnidentifiedImageError

    if isinstance(error, UnidentifiedImageError):  # its own text names a BytesIO address
        return "not an image file, or a format Pillow does not read"
    return str(error).strip() or type(error).__name__


def media_kind(feature: Any) -> str | None:
    """'image', 'audio' or 'video' for a media feature (also inside a list), else None."""
    if isinstance(feature, ParquetColumn):  # read without datasets: images are its only media
        return "image" if feature.is_image else None
    import datasets

    for name in ("Image", "Audio", "Video"):
        media_type = getattr(datasets, name, None)
        if media_type is not None and isinstance(feature, media_type):
            return name.lower()
    inner = getattr(feature, "feature", None)
    if isinstance(feature, list) and feature:
        inner = feature[0]
    return media_kind(inner) if inner is not None else None
