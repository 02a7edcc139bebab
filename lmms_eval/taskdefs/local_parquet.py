"""Local parquet files read straight with pyarrow, without importing HF `datasets`.

Importing `datasets` (and the pandas it pulls in) took most of a cached re-run's second.
For the common case of a task whose data are local parquet files written by `datasets`
(or any tool), the docs `datasets.load_dataset("parquet", data_files=...)` would give are
known from the files alone: the columns' features come from the schema's `huggingface`
metadata (or the arrow types), every file of a split is read in order, and a row is the
arrow row as Python values with its images decoded by Pillow.

This reader is used only when that equivalence is certain: `local_splits` returns None,
and the caller loads through `datasets` as before, for anything outside the subset it
knows (another builder, load arguments, process_docs, an unknown feature type, an image
stored as a path, a file it cannot read, ...). Its facts about `datasets` (5.x) are:
- a `data_files` string or list is the split "train"; a dict maps split -> file(s);
- features come from the first file's schema: a column whose metadata feature has the
  column's exact arrow field uses that feature, any other column a feature inferred
  from its arrow type; every table is then cast to those features (a no-op here, since
  every file must have the first one's arrow schema);
- `Image` decoding opens the stored bytes with Pillow, loads them, and applies the EXIF
  orientation when the image has one; a null image stays None.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Arrow types whose Python values (`to_pylist`) are what `datasets` hands out unchanged.
_PLAIN_ARROW_TYPES = (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float", "double", "string", "large_string", "binary", "large_binary", "null",
)  # fmt: skip
# `Value` dtypes (datasets' names) and the arrow type each stands for.
_VALUE_DTYPES = {
    "bool": "bool", "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64",
    "uint8": "uint8", "uint16": "uint16", "uint32": "uint32", "uint64": "uint64",
    "float32": "float", "float": "float", "float64": "double", "double": "double",
    "string": "string", "large_string": "large_string", "binary": "binary",
    "large_binary": "large_binary", "null": "null",
}  # fmt: skip
_SPLIT_NAME = re.compile(r"^\w+(\.\w+)*$")  # what datasets accepts as a split name
_GLOB_CHARACTERS = frozenset("*?[]{}")


@dataclass(frozen=True)
class ParquetColumn:
    """A column's feature as the pipeline needs it: an image (decoded on reading) or a
    plain value (the arrow value as it is)."""

    is_image: bool = False


class ImageDecodeError(Exception):
    """An image column of a row does not decode; `error` is Pillow's own exception."""

    def __init__(self, column: str, error: Exception):
        super().__init__(f"column '{column}': {error}")
        self.column, self.error = column, error


@dataclass(frozen=True)
class _Table:
    rows: list[dict[str, Any]]  # every column, images as their stored {"bytes", "path"}
    features: dict[str, ParquetColumn]
    fingerprint: str


class ParquetDocs:
    """One split's docs, as a `datasets.Dataset` of those files would give them: `len`,
    `docs[i]` (a fresh dict, images decoded), iteration, and the few Dataset methods the
    pipeline calls (`select`, `select_columns`, `remove_columns`, `to_list`)."""

    def __init__(self, table: _Table, ids: list[int] | None = None, columns: tuple[str, ...] | None = None):
        self._table = table
        self._ids = ids
        self._columns = columns if columns is not None else tuple(table.features)
        self._images = tuple(name for name in self._columns if table.features[name].is_image)
        self.features = {name: table.features[name] for name in self._columns}
        self._fingerprint = hashlib.sha256(f"{table.fingerprint}:{self._columns}:{ids}".encode()).hexdigest()[:16]
        self.cache_files: list[dict[str, str]] = []  # nothing is written to the HF cache

    @property
    def column_names(self) -> list[str]:
        return list(self._columns)

    def __len__(self) -> int:
        if not self._columns:
            return 0  # as a Dataset whose columns are all removed: an arrow table of no columns has no rows
        return len(self._ids) if self._ids is not None else len(self._table.rows)

    def __getitem__(self, doc_id: int) -> dict[str, Any]:
        """The row as `Dataset.__getitem__` gives it; a corrupt image raises Pillow's error."""
        try:
            return self.row(doc_id, lazy_png=False)
        except ImageDecodeError as failure:
            raise failure.error from None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for doc_id in range(len(self)):
            yield self[doc_id]

    def row(self, doc_id: int, lazy_png: bool) -> dict[str, Any]:
        """The row with its images decoded as `datasets` decodes them; with `lazy_png`,
        a row whose images are all plain PNG files opens them lazily instead
        (lmms_eval.media.stored_png). Raises ImageDecodeError naming the first image
        column (in feature order) that does not decode."""
        row = self._raw(doc_id)
        if lazy_png and self._images:
            from lmms_eval.media.stored_png import open_if_plain

            if open_if_plain(row, self._images):
                return row
        for name in self._images:
            if row[name] is not None:
                try:
                    row[name] = decode_image(row[name]["bytes"])
                except Exception as error:  # noqa: BLE001 - Pillow raises many types (OSError, SyntaxError, ...)
                    raise ImageDecodeError(name, error) from error
        return row

    def undecodable_images(self) -> Iterator[tuple[int, str, Exception]]:
        """(doc id, column, error) for each row with an image that does not decode (the
        first such column of the row)."""
        for doc_id in range(len(self)):
            try:
                self.row(doc_id, lazy_png=False)
            except ImageDecodeError as failure:
                yield doc_id, failure.column, failure.error

    def _raw(self, doc_id: int) -> dict[str, Any]:
        if not isinstance(doc_id, int) or isinstance(doc_id, bool):
            raise TypeError(f"docs are read by integer position, not {type(doc_id).__name__}")
        size = len(self)
        if not -size <= doc_id < size:
            raise IndexError(f"doc {doc_id} is out of range for {size} docs")
        position = self._ids[doc_id] if self._ids is not None else doc_id % size
        source = self._table.rows[position]
        return {name: _fresh(source[name]) for name in self._columns}

    def select(self, doc_ids: list[int]) -> ParquetDocs:
        if not self._columns:
            return self
        ids = [self._ids[i] if self._ids is not None else i for i in doc_ids]
        return ParquetDocs(self._table, ids, self._columns)

    def select_columns(self, names: list[str]) -> ParquetDocs:
        return ParquetDocs(self._table, self._ids, tuple(name for name in self._columns if name in set(names)))

    def remove_columns(self, names: list[str]) -> ParquetDocs:
        return ParquetDocs(self._table, self._ids, tuple(name for name in self._columns if name not in set(names)))

    def to_list(self) -> list[dict[str, Any]]:
        """Rows with images left as stored ({"bytes", "path"}), as `Dataset.to_list` does."""
        return [self._raw(doc_id) for doc_id in range(len(self))]


def decode_image(data: bytes) -> Any:
    """Pillow's image of the stored bytes, as datasets' `Image.decode_example` gives it."""
    from PIL import Image, ImageOps

    image = Image.open(io.BytesIO(data))
    image.load()
    if image.getexif().get(Image.ExifTags.Base.Orientation) is not None:
        image = ImageOps.exif_transpose(image)
    return image


def _fresh(value: Any) -> Any:
    """A copy of the nested lists and dicts, so task code that changes a doc does not
    change the next read of it (a Dataset builds every row anew)."""
    if isinstance(value, list):
        return [_fresh(item) for item in value]
    if isinstance(value, dict):
        return {key: _fresh(item) for key, item in value.items()}
    return value


# --- when the reader applies ----------------------------------------------------------


def local_splits(config: Any, dataset_kwargs: dict[str, Any], data_files: Any, base_dir: Path) -> dict[str, ParquetDocs] | None:
    """The splits read directly, or None when `datasets` must load them (see the module
    docstring). `data_files` is already resolved against the task's folder, `base_dir`."""
    if not _plain_parquet_task(config, dataset_kwargs, base_dir):
        return None
    files_by_split = _files_by_split(data_files)
    if files_by_split is None:
        return None
    try:
        return _read_splits(files_by_split)
    except Exception:  # noqa: BLE001 - any file the reader cannot take is loaded (or refused) by datasets
        return None


def _plain_parquet_task(config: Any, dataset_kwargs: dict[str, Any], base_dir: Path) -> bool:
    """The `parquet` builder given only data files, for a task whose code never sees the
    Dataset object itself (process_docs and full_docs get a real one)."""
    return (
        config.dataset_path == "parquet"
        # A file or folder named `parquet` (beside the YAML or here) is loaded as that path.
        and not (base_dir / "parquet").exists()
        and not Path("parquet").exists()
        and config.dataset_name is None
        and set(dataset_kwargs) == {"data_files"}
        and config.process_docs is None
        and not config.full_docs
    )


def _files_by_split(data_files: Any) -> dict[str, list[Path]] | None:
    """Split -> local parquet files, as datasets maps `data_files`; None for globs, URLs,
    repeated or missing files, or a split name datasets would refuse."""
    if isinstance(data_files, (str, list)):
        data_files = {"train": data_files}
    if not isinstance(data_files, dict) or not data_files:
        return None
    mapped: dict[str, list[Path]] = {}
    for split, names in data_files.items():
        names = [names] if isinstance(names, str) else names
        if not isinstance(split, str) or not _SPLIT_NAME.match(split) or not isinstance(names, list) or not names:
            return None
        if not all(isinstance(name, str) and _literal_local_file(name) for name in names):
            return None
        if len({Path(name).resolve() for name in names}) != len(names):
            return None  # a file named twice in a split
        mapped[split] = [Path(name) for name in names]
    return mapped


def _literal_local_file(name: str) -> bool:
    return not (_GLOB_CHARACTERS & set(name)) and "://" not in name and "::" not in name and Path(name).is_file()


# --- reading ----------------------------------------------------------------------------


def _read_splits(files_by_split: dict[str, list[Path]]) -> dict[str, ParquetDocs] | None:
    import pyarrow.parquet as pq

    first = next(iter(files_by_split.values()))[0]
    schema = pq.read_schema(first)
    if len(set(schema.names)) != len(schema.names):
        return None
    features = features_of(schema)
    if features is None:
        return None
    splits = {}
    for split, paths in files_by_split.items():
        tables = [pq.ParquetFile(path).read() for path in paths]
        if any(not table.schema.equals(schema, check_metadata=False) for table in tables):
            return None  # datasets would cast this file to the first one's features
        rows = [row for table in tables for row in table.to_pylist()]
        if not _rows_supported(rows, features, schema):
            return None
        splits[split] = ParquetDocs(_Table(rows, features, _fingerprint(paths, schema)))
    return splits


def _fingerprint(paths: list[Path], schema: Any) -> str:
    """Changes when a file does (its path, size or modification time), as the request
    cache's key needs."""
    hasher = hashlib.sha256(str(schema).encode())
    for path in paths:
        stat = path.stat()
        hasher.update(f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return hasher.hexdigest()


def _rows_supported(rows: list[dict[str, Any]], features: dict[str, ParquetColumn], schema: Any) -> bool:
    """Every image holds bytes (datasets opens a stored path itself, relative to where it
    runs), and every class label is in range (datasets' cast would check it)."""
    images = [name for name, feature in features.items() if feature.is_image]
    for row in rows:
        if any(row[name] is not None and not isinstance(row[name]["bytes"], bytes) for name in images):
            return False
    for name, count in _class_label_sizes(schema).items():
        if any(row[name] is not None and not 0 <= row[name] < count for row in rows):
            return False
    return True


# --- features -----------------------------------------------------------------------------


def features_of(schema: Any) -> dict[str, ParquetColumn] | None:
    """Each column's feature as datasets derives it from the schema, or None when one is
    outside the supported subset."""
    metadata = _metadata_features(schema)
    if metadata is None:
        return None
    features = {}
    for field in schema:
        declared = metadata.get(field.name)
        if declared is not None and not _declared_supported(declared, field):
            return None
        is_image = declared is not None and _is_plain_image(declared)
        if is_image and field != _image_field(field.name):
            return None  # datasets would read it as a plain struct: left to datasets
        if not is_image and not _arrow_type_supported(field.type):
            return None
        features[field.name] = ParquetColumn(is_image=is_image)
    return features


def _metadata_features(schema: Any) -> dict[str, Any] | None:
    """The `huggingface` metadata's features ({} without any), None when unreadable."""
    raw = (schema.metadata or {}).get(b"huggingface")
    if raw is None:
        return {}
    try:
        info = json.loads(raw.decode()).get("info") or {}
    except (ValueError, AttributeError):
        return None
    features = info.get("features") if isinstance(info, dict) else None
    if features is None:
        return {}
    return features if isinstance(features, dict) else None


def _class_label_sizes(schema: Any) -> dict[str, int]:
    metadata = _metadata_features(schema) or {}
    return {
        name: _class_count(feature)
        for name, feature in metadata.items()
        if isinstance(feature, dict) and feature.get("_type") == "ClassLabel" and name in schema.names
        and str(schema.field(name).type) == "int64"
    }  # fmt: skip


def _class_count(feature: dict[str, Any]) -> int:
    names = feature.get("names")
    return len(names) if isinstance(names, list) else int(feature.get("num_classes") or 0)


def _image_field(name: str) -> Any:
    import pyarrow as pa

    return pa.field(name, pa.struct({"bytes": pa.binary(), "path": pa.string()}))


def _is_plain_image(feature: Any) -> bool:
    return isinstance(feature, dict) and feature.get("_type") == "Image"


def _declared_supported(feature: Any, field: Any) -> bool:
    """A metadata feature whose values need no decoding beyond a top-level `Image` that
    decodes with no mode."""
    if _is_plain_image(feature):
        return feature.get("decode", True) is True and feature.get("mode") is None
    return _plain_feature(feature)


def _plain_feature(feature: Any) -> bool:
    """Value, ClassLabel, List/Sequence of those (not Sequence of a dict, which datasets
    turns into a dict of lists), and dicts of them."""
    if not isinstance(feature, dict):
        return False  # a JSON list ([feature]) is an older spelling: left to datasets
    kind = feature.get("_type")
    if kind is None:
        return all(_plain_feature(item) for item in feature.values())
    if kind == "Value":
        return feature.get("dtype") in _VALUE_DTYPES
    if kind == "ClassLabel":
        return True
    if kind in ("List", "Sequence"):
        inner = feature.get("feature")
        if feature.get("length", -1) not in (-1, None):
            return False
        if kind == "Sequence" and isinstance(inner, dict) and "_type" not in inner:
            return False
        return _plain_feature(inner)
    return False


def _arrow_type_supported(arrow_type: Any) -> bool:
    """Types whose `to_pylist` values are the docs' values: plain scalars, variable-length
    lists and structs of them."""
    import pyarrow as pa

    if isinstance(arrow_type, pa.StructType):
        return all(_arrow_type_supported(field.type) for field in arrow_type)
    if isinstance(arrow_type, pa.ListType) and not isinstance(arrow_type, pa.FixedSizeListType):
        return _arrow_type_supported(arrow_type.value_type)
    if isinstance(arrow_type, (pa.ExtensionType, pa.DictionaryType, pa.LargeListType, pa.FixedSizeListType)):
        return False
    return str(arrow_type) in _PLAIN_ARROW_TYPES
