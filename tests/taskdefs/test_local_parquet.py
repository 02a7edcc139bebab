"""local_parquet: local parquet files read without `datasets` give the docs `datasets` gives.

The equivalence is checked against `datasets.load_dataset` itself on generated tables over
the supported features (files written by datasets' own `to_parquet`); everything outside
that subset must be left to datasets (`local_splits` returns None).
"""

from __future__ import annotations

import io
import math
import random
import re
import tempfile
from pathlib import Path
from typing import Any

import datasets
import pyarrow.parquet as pq
import pytest
from helpers import COLOUR_DOCS, write, write_image_parquet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmms_eval.errors import DatasetLoadError
from lmms_eval.taskdefs import local_parquet
from lmms_eval.taskdefs.config import TaskConfig
from lmms_eval.taskdefs.dataset import load_splits
from lmms_eval.taskdefs.local_parquet import ParquetDocs, local_splits
from lmms_eval.taskdefs.rendering import BadDocInput, media_kind, read_doc, undecodable_rows

PLAIN = TaskConfig(task="t", dataset_path="parquet")


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)


# --- generated tables -----------------------------------------------------------------


def image_file(seed: int, kind: str) -> bytes:
    """A small image file: PNG in several modes, JPEG (some with an EXIF orientation), or
    bytes that do not decode."""
    from PIL import Image

    rng = random.Random(seed)
    size = (rng.randint(1, 5), rng.randint(1, 5))
    mode = {"png": rng.choice(["RGB", "L", "RGBA", "P", "LA"]), "jpeg": rng.choice(["RGB", "L"]), "rotated": "RGB"}.get(kind, "RGB")
    channels = len(Image.new(mode, (1, 1)).getbands())
    image = Image.frombytes(mode, size, bytes(rng.randrange(256) for _ in range(size[0] * size[1] * channels)))
    buffer = io.BytesIO()
    if kind == "rotated":
        exif = Image.Exif()
        exif[0x0112] = rng.choice([3, 6, 8])  # Orientation: datasets turns the image upright
        image.save(buffer, format="JPEG", exif=exif)
    elif kind == "jpeg":
        image.save(buffer, format="JPEG")
    else:
        image.save(buffer, format="PNG")
    data = buffer.getvalue()
    if kind == "truncated":
        return data[: len(data) // 2]
    if kind == "garbage":
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 40)))
    return data


IMAGES = st.one_of(
    st.none(),
    st.builds(lambda seed, kind: {"bytes": image_file(seed, kind), "path": None}, st.integers(0, 10**6),
              st.sampled_from(["png", "jpeg", "rotated", "truncated", "garbage"])),
)  # fmt: skip
INT32 = st.integers(-(2**31), 2**31 - 1)
# Each column kind: its feature and its values (None included: every column is nullable).
COLUMNS: dict[str, tuple[Any, st.SearchStrategy]] = {
    "int": (datasets.Value("int64"), st.none() | st.integers(-(2**63), 2**63 - 1)),
    "float": (datasets.Value("float64"), st.none() | st.floats()),
    "float32": (datasets.Value("float32"), st.none() | st.floats(width=32)),
    "text": (datasets.Value("string"), st.none() | st.text()),
    "flag": (datasets.Value("bool"), st.none() | st.booleans()),
    "numbers": (datasets.List(datasets.Value("int32")), st.none() | st.lists(st.none() | INT32, max_size=3)),
    "words": (datasets.Sequence(datasets.Value("string")), st.none() | st.lists(st.text(max_size=4), max_size=3)),
    "nested": (
        {"a": datasets.Value("int64"), "b": {"c": datasets.List(datasets.Value("string"))}},
        st.none() | st.fixed_dictionaries({"a": st.none() | st.integers(-5, 5), "b": st.fixed_dictionaries({"c": st.lists(st.text(max_size=3), max_size=2)})}),
    ),
    # datasets stores a Sequence of a dict as a dict of lists (and says so in the metadata).
    "records": (datasets.Sequence({"a": datasets.Value("int64")}), st.none() | st.fixed_dictionaries({"a": st.lists(st.integers(-3, 3), max_size=2)})),
    "label": (datasets.ClassLabel(names=["cat", "dog", "owl"]), st.none() | st.integers(0, 2)),
    "image": (datasets.Image(), IMAGES),
    "picture": (datasets.Image(), IMAGES),
}


@st.composite
def tables(draw: Any) -> tuple[datasets.Features, list[list[dict[str, Any]]], str]:
    """Features, the rows of each file (1-4 files, 1-4 rows each) and a data_files shape."""
    names = draw(st.lists(st.sampled_from(sorted(COLUMNS)), min_size=1, max_size=5, unique=True))
    features = datasets.Features({name: COLUMNS[name][0] for name in names})
    row = st.fixed_dictionaries({name: COLUMNS[name][1] for name in names})
    files = draw(st.lists(st.lists(row, min_size=1, max_size=4), min_size=1, max_size=4))
    shape = draw(st.sampled_from(["str", "list", "dict"])) if len(files) > 1 else draw(st.sampled_from(["str", "dict"]))
    return features, files, shape


def write_files(folder: Path, features: datasets.Features, files: list[list[dict[str, Any]]], shape: str) -> Any:
    paths = []
    for number, rows in enumerate(files):
        path = folder / f"part{number}.parquet"
        # Columns in the features' order in every file (files whose columns differ in order
        # are cast by datasets, and left to it: see test_files_of_different_schemas...).
        ordered = [{name: row[name] for name in features} for row in rows]
        datasets.Dataset.from_list(ordered, features=features).to_parquet(str(path))
        paths.append(str(path))
    if shape == "str":
        return paths[0]
    if shape == "list":
        return paths
    return {"test": paths[1:] or paths, "validation": paths[0]}  # one file may serve two splits' docs


def same(left: Any, right: Any) -> bool:
    """Equal values, nan equal to nan, images equal by mode, size, pixels and palette."""
    if hasattr(left, "tobytes") and hasattr(right, "tobytes"):
        return (left.mode, left.size, left.tobytes(), left.getpalette()) == (right.mode, right.size, right.tobytes(), right.getpalette())
    if isinstance(left, float) and isinstance(right, float):
        return left == right or (math.isnan(left) and math.isnan(right))
    if isinstance(left, dict) and isinstance(right, dict):
        return list(left) == list(right) and all(same(left[key], right[key]) for key in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(same, left, right))
    return type(left) is type(right) and left == right


def outcome(read: Any) -> tuple[str, Any]:
    try:
        return "doc", read()
    except Exception as error:  # noqa: BLE001 - the two readers must fail alike
        return type(error).__name__, re.sub(r" at 0x[0-9a-f]+", "", str(error))  # Pillow names its BytesIO's address


def same_outcome(left: tuple[str, Any], right: tuple[str, Any]) -> bool:
    return left[0] == right[0] and same(left[1], right[1])


def media_columns(docs: Any) -> list[str]:
    return [name for name, feature in docs.features.items() if media_kind(feature) is not None]


def assert_same_docs(mine: ParquetDocs, theirs: Any) -> None:
    assert len(mine) == len(theirs)
    assert list(mine.features) == list(theirs.features)
    assert media_columns(mine) == media_columns(theirs)
    for doc_id in range(len(theirs)):
        assert same_outcome(outcome(lambda: mine[doc_id]), outcome(lambda: theirs[doc_id]))
        # As a run reads it: plain PNG files lazily, everything else decoded; bad input named.
        assert same_outcome(outcome(lambda: read_doc(mine, doc_id, "x: ")), outcome(lambda: read_doc(theirs, doc_id, "x: ")))
    assert list(undecodable_rows(mine)) == list(undecodable_rows(theirs))
    # As scoring reads them: media left out, a few rows in one pass.
    ids = list(range(len(theirs)))[::2]
    media = media_columns(theirs)
    plain_mine, plain_theirs = (mine.remove_columns(media), theirs.remove_columns(media)) if media else (mine, theirs)
    assert same(plain_mine.select(ids).to_list(), plain_theirs.select(ids).to_list())
    assert same(mine.select_columns(media).select(ids).to_list(), theirs.select_columns(media).select(ids).to_list())


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(table=tables())
def test_docs_are_those_datasets_gives(table: tuple[datasets.Features, list[list[dict[str, Any]]], str]) -> None:
    features, files, shape = table
    with tempfile.TemporaryDirectory() as folder:
        data_files = write_files(Path(folder), features, files, shape)
        mine = local_splits(PLAIN, {"data_files": data_files}, data_files, Path(folder))
        theirs = datasets.load_dataset("parquet", data_files=data_files, cache_dir=str(Path(folder) / "cache"))
        assert mine is not None
        assert list(mine) == list(theirs)
        for split in theirs:
            assert_same_docs(mine[split], theirs[split])


def test_a_doc_read_twice_is_not_changed_by_task_code(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    datasets.Dataset.from_list([{"tags": ["a"], "meta": {"k": 1}}]).to_parquet(str(path))
    docs = local_splits(PLAIN, {"data_files": str(path)}, str(path), tmp_path)["train"]
    first = docs[0]
    first["tags"].append("b")
    first["meta"]["k"] = 2
    assert docs[0] == {"tags": ["a"], "meta": {"k": 1}}


def test_a_corrupt_image_is_bad_input_naming_its_column(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    rows = [{"image": {"bytes": image_file(1, "png"), "path": None}}, {"image": {"bytes": b"not an image", "path": None}}]
    datasets.Dataset.from_list(rows, features=datasets.Features({"image": datasets.Image()})).to_parquet(str(path))
    docs = local_splits(PLAIN, {"data_files": {"test": str(path)}}, {"test": str(path)}, tmp_path)["test"]
    with pytest.raises(BadDocInput) as caught:
        read_doc(docs, 1, "doc 1: ")
    assert caught.value.reason == "doc 1: cannot decode image (column 'image'): not an image file, or a format Pillow does not read"
    assert [doc_id for doc_id, _ in undecodable_rows(docs)] == [1]


# --- what is left to datasets -------------------------------------------------------------

UNSUPPORTED_FEATURES = {
    "a fixed-length list": (datasets.List(datasets.Value("int64"), length=2), [1, 2]),
    "an Array2D": (datasets.Array2D(shape=(1, 2), dtype="int32"), [[1, 2]]),
    "an Image with a mode": (datasets.Image(mode="RGB"), {"bytes": image_file(2, "png"), "path": None}),
    "an Image not decoded": (datasets.Image(decode=False), {"bytes": image_file(2, "png"), "path": None}),
    "an Image in a list": (datasets.List(datasets.Image()), [{"bytes": image_file(2, "png"), "path": None}]),
    "an Image in a dict": ({"x": datasets.Image()}, {"x": {"bytes": image_file(2, "png"), "path": None}}),
    "an Audio column": (datasets.Audio(), None),
    "float16": (datasets.Value("float16"), 1.5),
    "a timestamp": (datasets.Value("timestamp[s]"), "2024-01-01 00:00:00"),
}


@pytest.mark.parametrize("name", sorted(UNSUPPORTED_FEATURES))
def test_unsupported_features_are_left_to_datasets(tmp_path: Path, name: str) -> None:
    feature, value = UNSUPPORTED_FEATURES[name]
    path = tmp_path / "d.parquet"
    datasets.Dataset.from_list([{"x": value, "y": 1}], features=datasets.Features({"x": feature, "y": datasets.Value("int64")})).to_parquet(str(path))
    assert local_splits(PLAIN, {"data_files": str(path)}, str(path), tmp_path) is None


def test_an_old_style_sequence_of_a_dict_is_left_to_datasets(tmp_path: Path) -> None:
    import json

    import pyarrow as pa

    path = tmp_path / "d.parquet"
    features = {"x": {"_type": "Sequence", "feature": {"a": {"_type": "Value", "dtype": "int64"}}}}
    table = pa.table({"x": pa.array([{"a": [1]}])}).replace_schema_metadata({b"huggingface": json.dumps({"info": {"features": features}}).encode()})
    pq.write_table(table, str(path))
    assert local_splits(PLAIN, {"data_files": str(path)}, str(path), tmp_path) is None


def test_an_image_stored_as_a_path_is_left_to_datasets(tmp_path: Path) -> None:
    (tmp_path / "i.png").write_bytes(image_file(3, "png"))
    path = tmp_path / "d.parquet"
    datasets.Dataset.from_list([{"image": {"bytes": image_file(3, "png"), "path": None}}], features=datasets.Features({"image": datasets.Image()})).to_parquet(str(path))
    table = pq.read_table(path)
    import pyarrow as pa

    stored = pa.array([{"bytes": None, "path": str(tmp_path / "i.png")}], table.schema.field("image").type)
    pq.write_table(pa.table({"image": stored}, schema=table.schema), str(path))
    assert local_splits(PLAIN, {"data_files": str(path)}, str(path), tmp_path) is None


def test_files_of_different_schemas_are_left_to_datasets(tmp_path: Path) -> None:
    datasets.Dataset.from_list([{"x": 1}]).to_parquet(str(tmp_path / "a.parquet"))
    datasets.Dataset.from_list([{"x": "one"}]).to_parquet(str(tmp_path / "b.parquet"))
    files = [str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")]
    assert local_splits(PLAIN, {"data_files": files}, files, tmp_path) is None


@pytest.mark.parametrize(
    "config, kwargs, files",
    [
        (TaskConfig(task="t", dataset_path="parquet", process_docs=len), {}, None),  # task code gets a real Dataset
        (TaskConfig(task="t", dataset_path="parquet", full_docs=True), {}, None),
        (TaskConfig(task="t", dataset_path="parquet", dataset_name="sub"), {}, None),
        (TaskConfig(task="t", dataset_path="json"), {}, None),
        (PLAIN, {"revision": "main"}, None),
        (PLAIN, {"cache_dir": "x"}, None),
        (PLAIN, {}, "*.parquet"),  # a glob: datasets resolves it
        (PLAIN, {}, "missing.parquet"),
        (PLAIN, {}, {"bad-name": "d.parquet"}),
        (PLAIN, {}, ["d.parquet", "d.parquet"]),  # named twice in one split
        (PLAIN, {}, "not_parquet.parquet"),  # unreadable: datasets' error is the one shown
    ],
)
def test_other_loads_are_left_to_datasets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: TaskConfig, kwargs: dict, files: Any) -> None:
    monkeypatch.chdir(tmp_path)
    datasets.Dataset.from_list([{"x": 1}]).to_parquet(str(tmp_path / "d.parquet"))
    write(tmp_path / "not_parquet.parquet", "no parquet here")
    files = files if files is not None else "d.parquet"
    assert local_splits(config, {"data_files": files, **kwargs}, files, tmp_path) is None


# --- through load_splits ---------------------------------------------------------------------


def parquet_task(folder: Path, body: str) -> TaskConfig:
    from lmms_eval.taskdefs.index import TaskIndex

    path = write(folder / "t.yaml", "task: t\ndataset_path: parquet\ndoc_to_text: question\ndoc_to_target: answer\n" + body)
    return TaskIndex.build([path], include_builtin=False).task_config("t")


def test_load_splits_reads_a_local_parquet_task_directly(tmp_path: Path) -> None:
    write_image_parquet(tmp_path / "data" / "test.parquet", COLOUR_DOCS[:3])
    config = parquet_task(tmp_path, "dataset_kwargs:\n  data_files:\n    test: data/test.parquet\ntest_split: test\n")
    splits = load_splits(config)
    assert isinstance(splits["test"], ParquetDocs)
    assert [doc["answer"] for doc in splits["test"]] == ["red", "blue", "red"]


def test_a_process_docs_task_still_gets_a_dataset(tmp_path: Path) -> None:
    write_image_parquet(tmp_path / "test.parquet", COLOUR_DOCS[:3])
    write(tmp_path / "utils.py", "def first_two(dataset):\n    return dataset.select([0, 1])\n")
    config = parquet_task(tmp_path, "dataset_kwargs:\n  data_files:\n    test: test.parquet\ntest_split: test\nprocess_docs: !function utils.first_two\n")
    assert isinstance(load_splits(config)["test"], datasets.Dataset)


def test_a_file_that_is_not_parquet_fails_as_before(tmp_path: Path) -> None:
    write(tmp_path / "bad.parquet", "this is not parquet at all, but it is long enough to have rows" * 100)
    config = parquet_task(tmp_path, "dataset_kwargs:\n  data_files:\n    test: bad.parquet\ntest_split: test\n")
    with pytest.raises(DatasetLoadError) as caught:
        load_splits(config)
    assert str(caught.value).startswith(f"task t ({tmp_path / 't.yaml'}): cannot load dataset 'parquet': ")


def test_the_fallback_can_be_forced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_image_parquet(tmp_path / "test.parquet", COLOUR_DOCS[:2])
    config = parquet_task(tmp_path, "dataset_kwargs:\n  data_files:\n    test: test.parquet\ntest_split: test\n")
    monkeypatch.setattr(local_parquet, "local_splits", lambda *args: None)
    assert isinstance(load_splits(config)["test"], datasets.Dataset)
