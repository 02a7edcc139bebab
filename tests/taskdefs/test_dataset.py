"""dataset: local parquet / json / csv / load_from_disk through `datasets`, offline."""

from __future__ import annotations

from pathlib import Path

import datasets
import pytest
from helpers import COLOUR_DOCS, write, write_image_parquet, write_jsonl

from lmms_eval.errors import DatasetLoadError
from lmms_eval.taskdefs.config import TaskConfig
from lmms_eval.taskdefs.dataset import load_splits
from lmms_eval.taskdefs.index import TaskIndex
from lmms_eval.taskdefs.task import PromptSettings, Task
from lmms_eval.testing.server import PALETTE

ROWS = [{"question": "q0", "answer": "a0"}, {"question": "q1", "answer": "a1"}, {"question": "q2", "answer": "a2"}]


@pytest.fixture(autouse=True)
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No network, and a working directory that is not the task folder."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)  # the env is read once, at import
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)


def task_from(folder: Path, body: str) -> Task:
    path = write(folder / "t.yaml", "task: t\ndoc_to_text: question\ndoc_to_target: answer\n" + body)
    return Task(TaskIndex.build([path], include_builtin=False).task_config("t"), PromptSettings())


def questions(docs) -> list[str]:
    return [doc["question"] for doc in docs]


def test_parquet_with_images_relative_to_yaml(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    write_image_parquet(folder / "data" / "test.parquet", COLOUR_DOCS[:3])
    task = task_from(folder, "dataset_path: parquet\ndataset_kwargs:\n  data_files:\n    test: data/test.parquet\ntest_split: test\n")
    docs = task.eval_docs()
    assert len(docs) == 3
    assert [doc["answer"] for doc in docs] == ["red", "blue", "red"]
    assert docs[1]["image"].convert("RGB").getpixel((0, 0)) == PALETTE["blue"]  # decoded from the PNG bytes
    assert docs[0]["image"].size == (16, 16)


def test_jsonl_splits_and_list_of_files(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    write_jsonl(folder / "d" / "test1.jsonl", ROWS[:2])
    write_jsonl(folder / "d" / "test2.jsonl", ROWS[2:])
    write_jsonl(folder / "d" / "train.jsonl", [{"question": "t", "answer": "x"}])
    body = "dataset_path: json\ndataset_kwargs:\n  data_files:\n    test: [d/test1.jsonl, d/test2.jsonl]\n    train: d/train.jsonl\ntest_split: test\n"
    splits = load_splits(task_from(folder, body).config)
    assert sorted(splits) == ["test", "train"]
    assert questions(splits["test"]) == ["q0", "q1", "q2"]
    assert questions(splits["train"]) == ["t"]


def test_csv_single_file_is_train_split(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    write(folder / "rows.csv", "question,answer\nq0,a0\nq1,a1\n")
    task = task_from(folder, "dataset_path: csv\ndataset_kwargs:\n  data_files: rows.csv\ntest_split: train\n")
    assert questions(task.eval_docs()) == ["q0", "q1"]
    assert task.target(task.eval_docs()[1], 1) == "a1"


def test_absolute_data_files_are_kept(tmp_path: Path) -> None:
    data = tmp_path / "abs" / "x.jsonl"
    write_jsonl(data, ROWS[:1])
    task = task_from(tmp_path / "tasks", f"dataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {data}\ntest_split: test\n")
    assert questions(task.eval_docs()) == ["q0"]


def test_local_folder_dataset_path_relative_to_yaml(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    write_jsonl(folder / "local" / "test.jsonl", ROWS)
    task = task_from(folder, "dataset_path: local\ntest_split: test\n")
    assert questions(task.eval_docs()) == ["q0", "q1", "q2"]


def test_data_dir_relative_to_yaml(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    write_jsonl(folder / "sub" / "test.jsonl", ROWS[:2])
    task = task_from(folder, "dataset_path: json\ndataset_kwargs:\n  data_dir: sub\ntest_split: test\n")
    assert questions(task.eval_docs()) == ["q0", "q1"]


def test_load_from_disk_relative_to_yaml(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    datasets.DatasetDict({"validation": datasets.Dataset.from_list(ROWS)}).save_to_disk(str(folder / "saved"))
    task = task_from(folder, "dataset_path: saved\ndataset_kwargs:\n  load_from_disk: true\n  cache_dir: ignored\nvalidation_split: validation\n")
    assert questions(task.eval_docs()) == ["q0", "q1", "q2"]


def test_harness_flags_are_not_passed_to_load_dataset(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    write_jsonl(folder / "t.jsonl", ROWS[:1])
    body = "dataset_path: json\ndataset_kwargs:\n  data_files: {test: t.jsonl}\n  max_retries: 3\n  force_download: false\n  video: false\ntest_split: test\n"
    assert questions(task_from(folder, body).eval_docs()) == ["q0"]


def test_missing_split(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    write_jsonl(folder / "t.jsonl", ROWS)
    task = task_from(folder, "dataset_path: json\ndataset_kwargs:\n  data_files: {validation: t.jsonl}\ntest_split: test\n")
    with pytest.raises(DatasetLoadError) as caught:
        task.eval_docs()
    assert str(caught.value) == "task t: dataset has no split 'test' (it has: validation)"


def test_missing_file(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    task = task_from(folder, "dataset_path: json\ndataset_kwargs:\n  data_files: {test: nope.jsonl}\ntest_split: test\n")
    with pytest.raises(DatasetLoadError) as caught:
        task.eval_docs()
    assert str(caught.value).startswith(f"task t ({folder / 't.yaml'}): cannot load dataset 'json': ")


def test_from_youtube_is_unsupported(tmp_path: Path) -> None:
    raw = {"task": "v", "dataset_path": "lmms-lab/x", "test_split": "test", "doc_to_text": "q", "dataset_kwargs": {"From_YouTube": "yes"}}
    config = TaskConfig.from_dict(raw, str(tmp_path / "v.yaml"))
    with pytest.raises(DatasetLoadError) as caught:
        load_splits(config)
    assert str(caught.value) == "task v: dataset_kwargs From_YouTube (media archives) are not supported yet"


def test_load_from_disk_of_a_lone_dataset(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    datasets.Dataset.from_list(ROWS).save_to_disk(str(folder / "single"))
    task = task_from(folder, "dataset_path: single\ndataset_kwargs:\n  load_from_disk: true\ntest_split: test\n")
    with pytest.raises(DatasetLoadError, match=r"^task t: dataset has no named splits \(load_from_disk needs a saved DatasetDict\)$"):
        task.eval_docs()


@pytest.mark.parametrize(
    "name, content",
    [("empty.jsonl", ""), ("blank.jsonl", "\n  \n"), ("empty.json", "[]"), ("header.csv", "question,answer\n"), ("zero.parquet", "")],
)
def test_an_empty_data_file_says_it_has_no_rows(tmp_path: Path, name: str, content: str) -> None:
    folder = tmp_path / "tasks"
    write(folder / name, content)
    kind = {"jsonl": "json", "json": "json", "csv": "csv", "parquet": "parquet"}[name.rsplit(".", 1)[1]]
    task = task_from(folder, f"dataset_path: {kind}\ndataset_kwargs:\n  data_files:\n    test: {name}\ntest_split: test\n")
    with pytest.raises(DatasetLoadError) as caught:
        task.eval_docs()
    assert str(caught.value) == f"task t ({folder / 't.yaml'}): data file {folder / name} has no rows: nothing to evaluate"


def test_a_parquet_file_with_a_schema_and_no_rows(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "tasks"
    folder.mkdir()
    pq.write_table(pa.table({"question": pa.array([], pa.string())}), str(folder / "none.parquet"))
    task = task_from(folder, "dataset_path: parquet\ndataset_kwargs:\n  data_files:\n    test: none.parquet\ntest_split: test\n")
    with pytest.raises(DatasetLoadError, match=r"data file .*none.parquet has no rows: nothing to evaluate$"):
        task.eval_docs()


def test_a_generic_load_error_shows_its_cause(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    write(folder / "bad.parquet", "this is not parquet at all, but it is long enough to have rows" * 100)
    task = task_from(folder, "dataset_path: parquet\ndataset_kwargs:\n  data_files:\n    test: bad.parquet\ntest_split: test\n")
    with pytest.raises(DatasetLoadError) as caught:
        task.eval_docs()
    assert str(caught.value).startswith(f"task t ({folder / 't.yaml'}): cannot load dataset 'parquet': ")
    assert "\n" not in str(caught.value)
