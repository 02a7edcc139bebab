"""lmms-eval task folders that bring their own copy of `_task_utils` (as its library does), read
HF_HOME when imported, and use the `take_first_k` filter and the `bypass` aggregation."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from helpers import write

from lmms_eval.cli.main import main
from lmms_eval.metrics.aggregation import AGGREGATIONS, stderr_for
from lmms_eval.taskdefs.library import BUILTIN_TASK_DIR, set_task_roots

TASK_KEYS = "dataset_path: json\ntest_split: test\ndoc_to_text: !function utils.doc_to_text\ndoc_to_target: answer\n"

USER_UTILS = """
import os

from lmms_eval.tasks._task_utils.mmmu_mcq_utils import get_multi_choice_info, parse_jmmmu_multi_choice_response
from lmms_eval.tasks._task_utils.video_loader import load_frames

VIDEO_ROOT = os.path.join(os.environ["HF_HOME"], "videos")


def doc_to_text(doc):
    return doc["question"]
"""


@pytest.fixture
def library_copy(tmp_path: Path):
    """A copy of lmms-eval's library in miniature: its `_task_utils` holds one module this
    project does not ship and one this project ships with fewer functions."""
    root = tmp_path / "lmms_eval" / "tasks"
    write(root / "_task_utils" / "video_loader.py", "def load_frames(path):\n    return ['frame of ' + path]\n")
    write(root / "_task_utils" / "mmmu_mcq_utils.py", "def parse_jmmmu_multi_choice_response(text):\n    return 'J:' + text\n")
    write(root / "jtask" / "utils.py", USER_UTILS)
    write(
        root / "jtask" / "jtask.yaml",
        f"task: jtask\n{TASK_KEYS}repeats: 2\nfilter_list:\n  - name: firsts\n    filter:\n      - function: take_first_k\n        k: 2\n"
        "metric_list:\n  - metric: exact_match\n    aggregation: bypass\n",
    )
    yield root
    set_task_roots([])


def test_a_module_missing_here_comes_from_the_users_copy(library_copy: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HOME", "set")  # recorded, so the test's own default is undone afterwards
    monkeypatch.delenv("HF_HOME")
    assert main(["tasks", "check", "jtask", "--include_path", str(library_copy)]) == 0
    set_task_roots([library_copy])
    video_loader = importlib.import_module("lmms_eval.tasks._task_utils.video_loader")
    assert video_loader.load_frames("a.mp4") == ["frame of a.mp4"]
    ours = importlib.import_module("lmms_eval.tasks._task_utils.mmmu_mcq_utils")
    assert Path(ours.__file__).is_relative_to(BUILTIN_TASK_DIR)  # this project's module is used...
    assert ours.get_multi_choice_info(["cat", "dog"]) == ({"A": "cat", "B": "dog"}, ["A", "B"])
    assert ours.parse_jmmmu_multi_choice_response("x") == "J:x"  # ...with the names it lacks from the copy
    with pytest.raises(AttributeError, match="has no attribute 'nothing_anywhere'"):
        ours.nothing_anywhere  # noqa: B018


def test_without_a_copy_a_missing_name_is_an_attribute_error() -> None:
    set_task_roots([])
    ours = importlib.import_module("lmms_eval.tasks._task_utils.mmmu_mcq_utils")
    with pytest.raises(ImportError, match="parse_jmmmu_multi_choice_response"):
        exec("from lmms_eval.tasks._task_utils.mmmu_mcq_utils import parse_jmmmu_multi_choice_response", {})
    assert not hasattr(ours, "__wrapped__")


def test_hf_home_is_given_its_default_for_task_code(library_copy: Path, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HOME", "set")  # recorded, so the test's own default is undone afterwards
    monkeypatch.delenv("HF_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    from lmms_eval.taskdefs.functions import provide_hf_home

    provide_hf_home()
    import os

    assert os.environ["HF_HOME"] == str(tmp_path / "xdg" / "huggingface")


def test_bypass_reports_lmms_evals_placeholder_without_a_standard_error() -> None:
    bypass = AGGREGATIONS.get("bypass")
    assert bypass(["A", "B"]) == 999
    assert stderr_for(bypass, [1.0, 0.0, 1.0], bootstrap_iters=100, seed=0) is None
