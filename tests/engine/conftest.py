"""Tasks on small local JSONL datasets, for the engine's stage tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import write, write_jsonl

from lmms_eval.taskdefs.config import TaskConfig
from lmms_eval.taskdefs.functions import FunctionRef
from lmms_eval.taskdefs.task import PromptSettings, Task

# Task code that configs point at with "!function NAME".
ENGINE_UTILS = '''
from PIL import Image


def doc_to_visual(doc):
    return [Image.new("RGB", (4, 4), tuple(doc["rgb"]))]


def doc_to_video(doc):
    return [doc["video"]]


def open_image(doc):
    return [Image.open(doc["path"])]


def doc_to_messages(doc, lmms_eval_specific_kwargs=None):
    image = doc_to_visual(doc)[0]
    return [
        {"role": "system", "content": "You name colours."},
        {"role": "user", "content": [{"type": "image", "url": image}, {"type": "text", "text": "Q: " + doc["q"]}]},
    ]


def doc_to_messages_no_system(doc, lmms_eval_specific_kwargs=None):
    image = doc_to_visual(doc)[0]
    return [{"role": "user", "content": [{"type": "text", "text": "Look:"}, {"type": "image", "url": image}, {"type": "text", "text": doc["q"]}]}]


def process_results(doc, results):
    return {"match": float(results[0] == doc["a"]), "length": len(results[0]), "unused": 7}


def process_results_ll(doc, results):
    return {"best": float(max(range(len(results)), key=lambda i: results[i][0]) == doc["gold"])}


def shout(responses, docs):
    return [[response.upper() + "!" for response in doc_responses] for doc_responses, doc in zip(responses, docs)]


def process_results_list(doc, results):
    return results


class FirstWordFilter:
    """A task filter class in lmms-eval's style: one string per doc, not a list."""

    def __init__(self, **kwargs):
        pass

    def apply(self, resps, docs):
        return [doc_resps[0].split()[0] for doc_resps in resps]


class DropOneFilter:
    def __init__(self, **kwargs):
        pass

    def apply(self, resps, docs):
        return resps[:-1]


def process_results_full(doc, results, full_docs=None):
    return {"seen": float(len(full_docs)), "first": results[0]}
'''

MakeTask = Callable[..., Task]


@pytest.fixture
def make_task(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakeTask:
    """`make_task(rows, name=..., train=..., settings=..., **yaml_keys)` -> a Task.

    The docs are `rows` (and `train` as the training split); `doc_to_text` defaults to
    "{{q}}" and `doc_to_target` to "a". A YAML value written "!function NAME" becomes a
    reference to NAME in the task folder's utils.py, as the YAML loader would make it.
    """
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    folder = tmp_path / "tasks"
    write(folder / "utils.py", ENGINE_UTILS)

    def make(
        rows: list[dict[str, Any]],
        name: str = "colours",
        train: list[dict[str, Any]] | None = None,
        settings: PromptSettings | None = None,
        **keys: Any,
    ) -> Task:
        data = folder / name
        write_jsonl(data / "test.jsonl", rows)
        data_files = {"test": f"{name}/test.jsonl"}
        if train is not None:
            write_jsonl(data / "train.jsonl", train)
            data_files["train"] = f"{name}/train.jsonl"
        raw = {
            "task": name,
            "dataset_path": "json",
            "dataset_kwargs": {"data_files": data_files},
            "test_split": "test",
            **({"training_split": "train"} if train is not None else {}),
            "doc_to_text": "{{q}}",
            "doc_to_target": "a",
            **{key: _function(value, folder) for key, value in keys.items()},
        }
        config = TaskConfig.from_dict(raw, source=str(folder / f"{name}.yaml"))
        return Task(config, settings or PromptSettings())

    return make


def _function(value: Any, folder: Path) -> Any:
    if isinstance(value, str) and value.startswith("!function "):
        return FunctionRef(f"utils.{value.removeprefix('!function ')}", folder, str(folder / "utils.yaml"))
    if isinstance(value, list):
        return [_function(item, folder) for item in value]
    if isinstance(value, dict):
        return {key: _function(item, folder) for key, item in value.items()}
    return value
