"""config: the TaskConfig / GroupConfig schema and its validation messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lmms_eval.errors import TaskConfigError
from lmms_eval.taskdefs.config import AggregateMetric, GroupConfig, TaskConfig
from lmms_eval.taskdefs.functions import FunctionRef

MINIMAL: dict[str, Any] = {"task": "t", "dataset_path": "json", "test_split": "test", "doc_to_text": "question"}


def config(**changes: Any) -> TaskConfig:
    return TaskConfig.from_dict({**MINIMAL, **changes}, "/x/t.yaml")


def test_minimal_defaults() -> None:
    made = config()
    assert made.task == "t"
    assert made.source == "/x/t.yaml"
    assert made.output_type == "generate_until"
    assert made.generation_kwargs is None
    assert made.target_delimiter == " "
    assert made.fewshot_delimiter == "\n\n"
    assert made.tag == []
    assert made.eval_split == "test"
    assert made.version is None
    assert made.repeats == 1


def test_unknown_key_names_file_key_and_close_match() -> None:
    with pytest.raises(TaskConfigError) as caught:
        config(doc_to_txt="q")
    assert str(caught.value) == "/x/t.yaml, key 'doc_to_txt': unknown key (did you mean 'doc_to_text'?)"
    assert caught.value.path == "/x/t.yaml"
    assert caught.value.key == "doc_to_txt"


def test_unknown_key_without_close_match() -> None:
    with pytest.raises(TaskConfigError) as caught:
        config(zzzzzz=1)
    assert str(caught.value) == "/x/t.yaml, key 'zzzzzz': unknown key"


def test_source_is_not_a_yaml_key() -> None:
    with pytest.raises(TaskConfigError, match="key 'source': unknown key"):
        config(source="elsewhere")


def test_renamed_and_ignored_keys() -> None:
    made = config(model_specific_prompt_kwargs={"default": {"pre_prompt": "P"}}, should_decontaminate=True, use_prompt="x")
    assert made.lmms_eval_specific_kwargs == {"default": {"pre_prompt": "P"}}


def test_group_in_task_file_is_a_tag() -> None:
    assert config(group="g1", tag="t1").tag == ["t1", "g1"]
    assert config(group=["g1", "g2"]).tag == ["g1", "g2"]
    assert config(tag="solo", group_alias="ignored").tag == ["solo"]


@pytest.mark.parametrize(
    ("changes", "key", "text"),
    [
        ({"output_type": "generate"}, "output_type", "output_type 'generate' is not one of generate_until, loglikelihood, multiple_choice"),
        ({"output_type": "multiple_choice"}, "doc_to_choice", "multiple_choice tasks need doc_to_choice"),
        ({"test_split": None}, "test_split", "set test_split or validation_split"),
        ({"dataset_path": None}, "dataset_path", "dataset_path is required"),
        ({"doc_to_text": None}, "doc_to_text", "set doc_to_text or doc_to_messages"),
        ({"metric_list": [{"aggregation": "mean"}]}, "metric_list", "entry 0 needs a 'metric'"),
        ({"metric_list": [{"metric": "a"}, "b"]}, "metric_list", "entry 1 needs a 'metric'"),
        ({"filter_list": [{"name": "f", "filter": {"function": "x"}}]}, "filter_list", "entry 0 needs 'name' and a 'filter' list"),
        ({"filter_list": [{"filter": []}]}, "filter_list", "entry 0 needs 'name' and a 'filter' list"),
        ({"task": 5}, "task", "a task needs a string 'task' name"),
    ],
)
def test_validation_errors(changes: dict[str, Any], key: str, text: str) -> None:
    with pytest.raises(TaskConfigError) as caught:
        config(**changes)
    assert str(caught.value) == f"/x/t.yaml, key '{key}': {text}"


def test_validation_split_and_messages_are_enough() -> None:
    made = config(test_split=None, validation_split="val", doc_to_text=None, doc_to_messages="m")
    assert made.eval_split == "val"
    assert config(validation_split="val").eval_split == "test"  # test wins


def test_version_and_to_dict() -> None:
    ref = FunctionRef("utils.f", Path("/x"), "/x/t.yaml")
    made = config(metadata={"version": 2.0}, doc_to_visual=ref, dataset_kwargs={"data_files": {"test": Path("a.json")}})
    assert made.version == 2.0
    dumped = made.to_dict()
    assert "source" not in dumped
    assert dumped["doc_to_visual"] == "!function utils.f"
    assert dumped["dataset_kwargs"] == {"data_files": {"test": "a.json"}}
    assert dumped["task"] == "t"


def test_prompt_hash_ignores_scoring_keys_only() -> None:
    base = config().prompt_hash()
    assert len(base) == 16
    assert config(metric_list=[{"metric": "anls"}], task_alias="T", tag="x").prompt_hash() == base
    assert config(doc_to_text="other").prompt_hash() != base
    assert config(generation_kwargs={"max_new_tokens": 3}).prompt_hash() != base


def test_group_config_parses_aggregates() -> None:
    group = GroupConfig.from_dict(
        {
            "group": "g",
            "task": ["a", {"task": "b"}],
            "group_alias": "G",
            "aggregate_metric_list": [
                {"metric": "acc"},
                {"metric": "anls", "aggregation": "mean", "weight_by_size": False, "filter_list": ["x", "y"]},
            ],
            "metadata": {"version": 1},
        },
        "/x/g.yaml",
    )
    assert group.group == "g"
    assert group.task == ["a", {"task": "b"}]
    assert group.group_alias == "G"
    assert group.aggregate_metric_list == [
        AggregateMetric("acc", "mean", True, ("none",)),
        AggregateMetric("anls", "mean", False, ("x", "y")),
    ]
    assert group.metadata == {"version": 1}


def test_group_single_aggregate_dict_is_accepted() -> None:
    group = GroupConfig.from_dict({"group": "g", "task": ["a"], "aggregate_metric_list": {"metric": "acc"}})
    assert group.aggregate_metric_list == [AggregateMetric("acc")]


@pytest.mark.parametrize(
    ("raw", "key", "text"),
    [
        ({"group": "g", "task": ["a"], "dataset_path": "x"}, "dataset_path", "unknown key in a group file"),
        ({"group": "g", "task": []}, "task", "a group needs a non-empty 'task' list"),
        ({"group": "g", "task": ["a"], "aggregate_metric_list": [{"weight_by_size": True}]}, "aggregate_metric_list", "each entry needs a 'metric'"),
        (
            {"group": "g", "task": ["a"], "aggregate_metric_list": [{"metric": "acc", "aggregation": "median"}]},
            "aggregate_metric_list",
            "only 'mean' aggregation is supported for groups",
        ),
    ],
)
def test_group_errors(raw: dict[str, Any], key: str, text: str) -> None:
    with pytest.raises(TaskConfigError) as caught:
        GroupConfig.from_dict(raw, "/x/g.yaml")
    assert str(caught.value) == f"/x/g.yaml, key '{key}': {text}"


def test_empty_collection_keys_mean_their_defaults() -> None:
    made = config(metric_list=None, filter_list=None, fewshot_config=None, metadata=None, dataset_kwargs=None, tag=None)
    assert (made.metric_list, made.filter_list, made.fewshot_config, made.metadata, made.dataset_kwargs, made.tag) == ([], [], {}, {}, {}, [])
    assert made.version is None
    assert config(generation_kwargs=None).generation_kwargs is None  # None here has its own meaning


def test_metadata_as_a_list_of_mappings_is_one_mapping() -> None:
    # lmms-eval's mme.yaml writes `metadata: [{version: 0.0}]`
    made = config(metadata=[{"version": 0.0}, {"gpt_eval_model_name": "gpt-4o"}])
    assert made.metadata == {"version": 0.0, "gpt_eval_model_name": "gpt-4o"}
    assert made.version == 0.0
    with pytest.raises(TaskConfigError, match="key 'metadata'.*must be a mapping"):
        config(metadata=3)
