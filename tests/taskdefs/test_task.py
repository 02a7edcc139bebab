"""task: prompts, targets, choices, gold indices, few-shot sampling and generation kwargs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import write

from lmms_eval.errors import DatasetLoadError, DocumentError, TaskConfigError
from lmms_eval.taskdefs import task as task_module
from lmms_eval.taskdefs.config import TaskConfig
from lmms_eval.taskdefs.index import TaskIndex
from lmms_eval.taskdefs.task import PromptSettings, Task

UTILS = """
def doc_to_text(doc, lmms_eval_specific_kwargs=None):
    kwargs = lmms_eval_specific_kwargs or {}
    return kwargs.get("pre_prompt", "") + doc["question"] + kwargs.get("post_prompt", "")

def doc_to_visual(doc):
    return doc.get("visual")

def doc_to_target(doc, target_kwargs=None):
    return (target_kwargs or "") + doc["answer"]

def process_results(doc, results):
    return {"match": float(results[0] == doc["answer"])}

def process_docs(dataset):
    return [dict(doc, question=doc["question"].upper()) for doc in dataset]

def explode(doc):
    return doc["missing"]
"""


def make_task(tmp_path: Path, yaml_body: str, settings: PromptSettings | None = None, **overrides: Any) -> Task:
    write(tmp_path / "utils.py", UTILS)
    path = write(tmp_path / "t.yaml", "task: t\ndataset_path: json\n" + yaml_body)
    index = TaskIndex.build([path], include_builtin=False)
    return Task(index.task_config("t", overrides), settings or PromptSettings())


def with_docs(monkeypatch: pytest.MonkeyPatch, **splits: list[dict[str, Any]]) -> None:
    """Skip `datasets`: the task reads these lists as its splits."""
    monkeypatch.setattr(task_module, "load_splits", lambda config: splits)


DOCS = [{"question": f"q{i}", "answer": f"a{i}"} for i in range(10)]
PLAIN = "test_split: test\ndoc_to_text: question\ndoc_to_target: answer\n"


# --- prompts --------------------------------------------------------------------------


KWARGS_YAML = """
test_split: test
doc_to_text: !function utils.doc_to_text
lmms_eval_specific_kwargs:
  default:
    pre_prompt: "D: "
    post_prompt: " [end]"
  llava:
    pre_prompt: "L: "
"""


def test_default_prompt_kwargs(tmp_path: Path) -> None:
    task = make_task(tmp_path, KWARGS_YAML, PromptSettings(model_name="other"))
    assert task.prompt_kwargs == {"pre_prompt": "D: ", "post_prompt": " [end]"}
    assert task.text({"question": "Why?"}, 0) == "D: Why? [end]"


def test_model_entry_replaces_default_without_merge(tmp_path: Path) -> None:
    task = make_task(tmp_path, KWARGS_YAML, PromptSettings(model_name="llava"))
    assert task.prompt_kwargs == {"pre_prompt": "L: "}
    assert task.text({"question": "Why?"}, 0) == "L: Why?"  # no post_prompt from default


def test_no_prompt_kwargs_passes_none(tmp_path: Path) -> None:
    task = make_task(tmp_path, "test_split: test\ndoc_to_text: !function utils.doc_to_text\n")
    assert task.prompt_kwargs is None
    assert task.text({"question": "Why?"}, 0) == "Why?"


def test_template_text_and_missing_text(tmp_path: Path) -> None:
    task = make_task(tmp_path, 'test_split: test\ndoc_to_text: "Q: {{question}}"\n')
    assert task.text({"question": "x"}, 0) == "Q: x"
    messages = make_task(tmp_path, "test_split: test\ndoc_to_messages: question\n")
    assert messages.raw_messages({"question": [{"role": "user"}]}, 0) == [{"role": "user"}]
    with pytest.raises(TaskConfigError, match="task t has no doc_to_text"):
        messages.text({"question": "x"}, 0)


def test_visuals_are_always_a_list(tmp_path: Path) -> None:
    task = make_task(tmp_path, PLAIN + "doc_to_visual: !function utils.doc_to_visual\n")
    assert task.visuals({"visual": None}, 0) == []
    assert task.visuals({"visual": "img"}, 0) == ["img"]
    assert task.visuals({"visual": ("a", "b")}, 0) == ["a", "b"]
    assert make_task(tmp_path, PLAIN).visuals({}, 0) == []
    assert make_task(tmp_path, PLAIN).raw_messages({}, 0) is None


def test_task_code_failure_names_task_key_and_doc(tmp_path: Path) -> None:
    task = make_task(tmp_path, "test_split: test\ndoc_to_text: !function utils.explode\n")
    with pytest.raises(DocumentError) as caught:
        task.text({"question": "x"}, 7)
    assert str(caught.value) == "task t doc 7: doc_to_text needs field 'missing'; the doc has: question"


# --- targets, choices, golds ------------------------------------------------------------


def test_target_with_model_specific_target_kwargs(tmp_path: Path) -> None:
    body = PLAIN.replace("answer", "!function utils.doc_to_target") + "model_specific_target_kwargs:\n  default: 'D-'\n  m: 'M-'\n"
    assert make_task(tmp_path, body).target({"answer": "x"}, 0) == "D-x"
    assert make_task(tmp_path, body, PromptSettings(model_name="m")).target({"answer": "x"}, 0) == "M-x"


MC = 'test_split: test\noutput_type: multiple_choice\ndoc_to_text: question\ndoc_to_choice: "{{options}}"\n'


def test_choices_targets_and_golds(tmp_path: Path) -> None:
    doc = {"question": "q", "options": ["cat", "dog", "3"], "label": " 1 ", "word": "dog", "both": [0, "3"]}
    task = make_task(tmp_path, MC + "doc_to_target: label\n")
    assert task.choices(doc, 0) == ["cat", "dog", "3"]
    assert task.target(doc, 0) == 1  # a digit string is an index when there are choices
    assert task.target_text(doc, 0) == "dog"
    assert task.gold_indices(doc, 0, task.choices(doc, 0)) == [1]
    by_text = make_task(tmp_path, MC + "doc_to_target: word\n")
    assert by_text.target(doc, 0) == "dog"
    assert by_text.gold_indices(doc, 0, ["cat", "dog", "3"]) == [1]
    many = make_task(tmp_path, MC + "doc_to_target: both\n")
    assert many.gold_indices(doc, 0, ["cat", "dog", "3"]) == [0, 2]
    assert many.target_text(doc, 0) == "cat"


def test_non_decimal_digit_target_stays_text(tmp_path: Path) -> None:
    task = make_task(tmp_path, MC + "doc_to_target: word\n")
    assert task.target({"word": "²"}, 0) == "²"  # str.isdigit() is true, int() would fail
    assert task.gold_indices({"word": "²"}, 0, ["1", "²"]) == [1]


def test_digit_target_without_choices_stays_text(tmp_path: Path) -> None:
    assert make_task(tmp_path, PLAIN).target({"answer": "42"}, 0) == "42"
    assert make_task(tmp_path, PLAIN).target_text({"answer": "42"}, 0) == "42"
    assert make_task(tmp_path, "test_split: test\ndoc_to_text: q\n").target({}, 0) is None


def test_bad_choices_and_golds(tmp_path: Path) -> None:
    task = make_task(tmp_path, MC.replace('"{{options}}"', "options") + "doc_to_target: word\n")
    with pytest.raises(DocumentError, match=r"task t doc 4: doc_to_choice gave 'abc', not a list of choices"):
        task.choices({"options": "abc"}, 4)
    with pytest.raises(DocumentError, match=r"doc_to_choice gave \[\]"):
        task.choices({"options": []}, 4)
    with pytest.raises(DocumentError, match=r"task t doc 5: doc_to_choice raised ValueError"):
        make_task(tmp_path, MC).choices({"options": "abc"}, 5)  # the template renders abc, not a list literal
    with pytest.raises(DocumentError, match=r"task t doc 2: target 'emu' is neither an index nor one of the choices"):
        task.gold_indices({"word": "emu"}, 2, ["cat", "dog"])
    with pytest.raises(TaskConfigError, match="task t has no doc_to_choice"):
        make_task(tmp_path, PLAIN).choices({}, 0)


# --- process_results / process_docs -----------------------------------------------------


def test_process_results_receives_doc_and_results(tmp_path: Path) -> None:
    task = make_task(tmp_path, PLAIN + "process_results: !function utils.process_results\n")
    doc = {"answer": "a"}
    assert task.call("process_results", task.process_results, doc, ["a"], doc_id=0) == {"match": 1.0}
    assert task.call("process_results", task.process_results, doc, ["b"], doc_id=0) == {"match": 0.0}


def test_process_results_must_be_a_function(tmp_path: Path) -> None:
    with pytest.raises(TaskConfigError, match=r"key 'process_results': expected '!function module.name', found 'x'"):
        make_task(tmp_path, PLAIN + "process_results: x\n")


def test_process_docs_applies_to_eval_and_fewshot_splits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with_docs(monkeypatch, test=DOCS[:2], train=DOCS[2:4])
    task = make_task(tmp_path, PLAIN + "training_split: train\nnum_fewshot: 1\nfewshot_config:\n  sampler: first_n\nprocess_docs: !function utils.process_docs\n")
    assert [doc["question"] for doc in task.eval_docs()] == ["Q0", "Q1"]
    assert task.fewshot_examples(0) == [{"question": "Q2", "answer": "a2"}]


# --- few-shot -----------------------------------------------------------------------------


def fewshot_ids(task: Task, doc_id: int) -> list[int]:
    return [int(doc["question"][1:]) for doc in task.fewshot_examples(doc_id)]


def test_zero_shot_loads_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(task_module, "load_splits", lambda config: pytest.fail("loaded"))
    assert make_task(tmp_path, PLAIN).fewshot_examples(3) == []


def test_fewshot_same_doc_same_examples_in_any_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with_docs(monkeypatch, test=DOCS)
    body = PLAIN + "validation_split: test\nnum_fewshot: 3\n"  # few-shot from the evaluated split itself
    forward = make_task(tmp_path, body)
    picks = {doc_id: fewshot_ids(forward, doc_id) for doc_id in range(10)}
    backward = make_task(tmp_path, body)
    assert {doc_id: fewshot_ids(backward, doc_id) for doc_id in reversed(range(10))} == picks
    assert fewshot_ids(forward, 4) == picks[4]  # asking again changes nothing
    for doc_id, chosen in picks.items():
        assert len(chosen) == 3 and len(set(chosen)) == 3
        assert doc_id not in chosen  # a doc is never its own example
        assert set(chosen) <= set(range(10))
    assert len({tuple(chosen) for chosen in picks.values()}) > 1  # not one fixed set for every doc
    other_seed = make_task(tmp_path, body, PromptSettings(fewshot_seed=99))
    assert {doc_id: fewshot_ids(other_seed, doc_id) for doc_id in range(10)} != picks


def test_fewshot_never_self_even_when_only_enough_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with_docs(monkeypatch, test=DOCS[:3])
    task = make_task(tmp_path, PLAIN + "fewshot_split: test\nnum_fewshot: 2\n")
    assert sorted(fewshot_ids(task, 1)) == [0, 2]
    assert sorted(fewshot_ids(task, 0)) == [1, 2]


def test_first_n_sampler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with_docs(monkeypatch, test=DOCS)
    task = make_task(tmp_path, PLAIN + "fewshot_split: test\nnum_fewshot: 3\nfewshot_config:\n  sampler: first_n\n")
    assert fewshot_ids(task, 5) == [0, 1, 2]
    assert fewshot_ids(task, 1) == [0, 2, 3]
    assert fewshot_ids(task, 0) == [1, 2, 3]


def test_fewshot_from_another_split_may_use_same_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with_docs(monkeypatch, test=DOCS[:2], train=DOCS[5:7])
    task = make_task(tmp_path, PLAIN + "training_split: train\nnum_fewshot: 2\n")
    assert sorted(fewshot_ids(task, 0)) == [5, 6]


def test_fewshot_split_preference(tmp_path: Path) -> None:
    def split_for(extra: str) -> str:
        return make_task(tmp_path, PLAIN + extra + "num_fewshot: 1\n")._fewshot_split_name()

    assert split_for("fewshot_split: f\ntraining_split: tr\nvalidation_split: v\n") == "f"
    assert split_for("training_split: tr\nvalidation_split: v\n") == "tr"
    assert split_for("validation_split: v\n") == "v"


def test_fewshot_without_a_split(tmp_path: Path) -> None:
    body = "validation_split: v\ndoc_to_text: question\nnum_fewshot: 1\n"
    with pytest.raises(TaskConfigError, match="task t: few-shot needs fewshot_split or training_split"):
        make_task(tmp_path, body).fewshot_examples(0)


def test_fewshot_too_few_examples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with_docs(monkeypatch, test=DOCS[:3])
    task = make_task(tmp_path, PLAIN + "fewshot_split: test\nnum_fewshot: 3\n")
    with pytest.raises(TaskConfigError, match=r"key 'num_fewshot': task t: 3-shot needs 3 examples, the split has 2"):
        task.fewshot_examples(0)


def test_num_fewshot_cli_overrides_yaml(tmp_path: Path) -> None:
    assert make_task(tmp_path, PLAIN + "num_fewshot: 2\n").num_fewshot == 2
    assert make_task(tmp_path, PLAIN + "num_fewshot: 2\n", PromptSettings(num_fewshot=0)).num_fewshot == 0
    assert make_task(tmp_path, PLAIN).num_fewshot == 0


def test_missing_split_in_loaded_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with_docs(monkeypatch, train=DOCS, validation=DOCS)
    with pytest.raises(DatasetLoadError, match=r"task t: dataset has no split 'test' \(it has: train, validation\)"):
        make_task(tmp_path, PLAIN).eval_docs()


# --- generation kwargs -----------------------------------------------------------------------


def gen(tmp_path: Path, extra: str = "", settings: PromptSettings | None = None) -> dict[str, Any]:
    return make_task(tmp_path, PLAIN + extra, settings).generation_kwargs


def test_no_generation_kwargs_means_greedy_until_blank_line(tmp_path: Path) -> None:
    assert gen(tmp_path) == {"until": ["\n\n"], "do_sample": False}


def test_generation_kwargs_without_until_get_it(tmp_path: Path) -> None:
    assert gen(tmp_path, "generation_kwargs:\n  max_new_tokens: 5\n  temperature: 0.2\n") == {
        "max_new_tokens": 5,
        "temperature": 0.2,
        "until": ["\n\n"],
    }


def test_generation_kwargs_until_string_becomes_list(tmp_path: Path) -> None:
    assert gen(tmp_path, "generation_kwargs:\n  until: 'STOP'\n") == {"until": ["STOP"]}
    assert gen(tmp_path, "generation_kwargs:\n  until: []\n") == {"until": []}


def test_model_specific_and_cli_overrides(tmp_path: Path) -> None:
    extra = (
        "generation_kwargs:\n  max_new_tokens: 5\n  temperature: 0\n"
        "model_specific_generation_kwargs:\n  llava:\n    max_new_tokens: 50\n    until: '###'\n"
    )
    assert gen(tmp_path, extra, PromptSettings(model_name="other")) == {"max_new_tokens": 5, "temperature": 0, "until": ["\n\n"]}
    assert gen(tmp_path, extra, PromptSettings(model_name="llava")) == {"max_new_tokens": 50, "temperature": 0, "until": ["###"]}
    cli = PromptSettings(model_name="llava", gen_kwargs_override=(("temperature", 0.7), ("until", "END")))
    assert gen(tmp_path, extra, cli) == {"max_new_tokens": 50, "temperature": 0.7, "until": ["END"]}


def test_default_until_is_not_shared_between_tasks() -> None:
    config = TaskConfig.from_dict({"task": "u", "dataset_path": "json", "test_split": "t", "doc_to_text": "q"})
    first = Task(config, PromptSettings()).generation_kwargs
    first["until"].append("changed")
    assert Task(config, PromptSettings()).generation_kwargs["until"] == ["\n\n"]
