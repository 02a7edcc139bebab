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

def text_with_default(doc, lmms_eval_specific_kwargs={"pre_prompt": "DEFAULT "}):
    return lmms_eval_specific_kwargs["pre_prompt"] + doc["question"]

def text_doc_only(doc):
    return doc["question"]

def text_none(doc, lmms_eval_specific_kwargs=None):
    return None

def visual_two(doc, lmms_eval_specific_kwargs):
    return [lmms_eval_specific_kwargs["pre_prompt"]]

def visual_one(doc):
    return ["one"]

def visual_optional(doc, lmms_eval_specific_kwargs=None, extra=None):
    return [lmms_eval_specific_kwargs]

def messages_named(doc, other=None, lmms_eval_specific_kwargs=None):
    return [{"role": "user", "content": [{"type": "text", "text": str(lmms_eval_specific_kwargs)}]}]

def messages_star(doc, **kwargs):
    return [{"role": "user", "content": [{"type": "text", "text": str(kwargs)}]}]

def messages_two(doc, prompt_kwargs):
    return [{"role": "user", "content": [{"type": "text", "text": str(prompt_kwargs)}]}]

def messages_one(doc):
    return [{"role": "user", "content": [{"type": "text", "text": "alone"}]}]

def results_full(doc, results, full_docs=None):
    return {"match": None if full_docs is None else len(full_docs)}

CALLS = []

def counted_text(doc, lmms_eval_specific_kwargs=None):
    CALLS.append(("text", doc["question"]))
    return doc["question"]

def counted_visual(doc):
    CALLS.append(("visual", doc["question"]))
    return []

def counted_target(doc):
    CALLS.append(("target", doc["question"]))
    return doc["answer"]
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


def test_default_prompt_kwargs_are_the_whole_mapping_updated_with_default(tmp_path: Path) -> None:
    task = make_task(tmp_path, KWARGS_YAML, PromptSettings(model_name="other"))
    # lmms-eval updates the top-level mapping with default's keys (compat.md 4.4).
    assert task.prompt_kwargs == {
        "default": {"pre_prompt": "D: ", "post_prompt": " [end]"},
        "llava": {"pre_prompt": "L: "},
        "pre_prompt": "D: ",
        "post_prompt": " [end]",
    }
    assert task.text({"question": "Why?"}, 0) == "D: Why? [end]"


def test_dataset_entry_is_the_second_fallback(tmp_path: Path) -> None:
    body = "test_split: test\ndoc_to_text: !function utils.doc_to_text\nlmms_eval_specific_kwargs:\n  dataset:\n    pre_prompt: 'S: '\n"
    task = make_task(tmp_path, body, PromptSettings(model_name="other"))
    assert task.prompt_kwargs == {"dataset": {"pre_prompt": "S: "}, "pre_prompt": "S: "}
    assert task.text({"question": "Why?"}, 0) == "S: Why?"


def test_kwargs_without_a_known_entry_are_passed_unchanged(tmp_path: Path) -> None:
    body = "test_split: test\ndoc_to_text: !function utils.doc_to_text\nlmms_eval_specific_kwargs:\n  pre_prompt: 'P: '\n  gpt4v:\n    pre_prompt: 'G: '\n"
    task = make_task(tmp_path, body, PromptSettings(model_name="other"))
    assert task.prompt_kwargs == {"pre_prompt": "P: ", "gpt4v": {"pre_prompt": "G: "}}
    assert task.text({"question": "Why?"}, 0) == "P: Why?"


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


# --- calling conventions (compat.md 4.2-4.6) ---------------------------------------------------

WITH_KWARGS = "lmms_eval_specific_kwargs:\n  default:\n    pre_prompt: 'K '\n"


def test_doc_to_text_without_kwargs_keeps_the_function_default(tmp_path: Path) -> None:
    # lmms-eval calls doc_to_text(doc) when the task sets no kwargs: the default applies.
    task = make_task(tmp_path, "test_split: test\ndoc_to_text: !function utils.text_with_default\n")
    assert task.text({"question": "Why?"}, 0) == "DEFAULT Why?"
    with_kwargs = make_task(tmp_path, "test_split: test\ndoc_to_text: !function utils.text_with_default\n" + WITH_KWARGS)
    assert with_kwargs.text({"question": "Why?"}, 0) == "K Why?"
    doc_only = make_task(tmp_path, "test_split: test\ndoc_to_text: !function utils.text_doc_only\n" + WITH_KWARGS)
    assert doc_only.text({"question": "Why?"}, 0) == "Why?"


@pytest.mark.parametrize(
    "function, kwargs, expected",
    [
        ("visual_two", True, ["K "]),  # kwargs set and exactly two parameters: (doc, kwargs)
        ("visual_one", True, ["one"]),
        ("visual_optional", True, [None]),  # three parameters: the doc alone
    ],
)
def test_doc_to_visual_gets_kwargs_only_with_exactly_two_parameters(tmp_path: Path, function: str, kwargs: bool, expected: list) -> None:
    body = f"test_split: test\ndoc_to_text: question\ndoc_to_visual: !function utils.{function}\n" + (WITH_KWARGS if kwargs else "")
    assert make_task(tmp_path, body).visuals({"question": "q"}, 0) == expected


def test_doc_to_visual_without_kwargs_gets_the_doc_alone(tmp_path: Path) -> None:
    task = make_task(tmp_path, "test_split: test\ndoc_to_text: question\ndoc_to_visual: !function utils.visual_optional\n")
    assert task.visuals({"question": "q"}, 0) == [None]


@pytest.mark.parametrize(
    "function, expected",
    [
        ("messages_named", "{'default': {'pre_prompt': 'K '}, 'pre_prompt': 'K '}"),  # by keyword, whatever its position
        ("messages_star", "{'lmms_eval_specific_kwargs': {'default': {'pre_prompt': 'K '}, 'pre_prompt': 'K '}}"),
        ("messages_two", "{'default': {'pre_prompt': 'K '}, 'pre_prompt': 'K '}"),  # two parameters: positionally
        ("messages_one", "alone"),
    ],
)
def test_doc_to_messages_kwargs_rule(tmp_path: Path, function: str, expected: str) -> None:
    task = make_task(tmp_path, f"test_split: test\ndoc_to_messages: !function utils.{function}\n" + WITH_KWARGS)
    [message] = task.raw_messages({"question": "q"}, 0)
    assert message["content"][0]["text"] == expected


def test_model_specific_generation_kwargs_default_entry(tmp_path: Path) -> None:
    extra = "generation_kwargs:\n  max_new_tokens: 5\nmodel_specific_generation_kwargs:\n  default:\n    max_new_tokens: 7\n  llava:\n    max_new_tokens: 9\n"
    assert gen(tmp_path, extra, PromptSettings(model_name="other"))["max_new_tokens"] == 7
    assert gen(tmp_path, extra, PromptSettings(model_name="llava"))["max_new_tokens"] == 9


def test_target_forms(tmp_path: Path) -> None:
    doc = {"question": "q", "options": ["cat", "dog"], "idx": 1, "word": "dog"}
    assert make_task(tmp_path, MC + 'doc_to_target: "{{ idx }}"\n').target(doc, 0) == 1  # digits from a template: an index
    assert make_task(tmp_path, PLAIN.replace("answer", '"{{ idx }}"')).target(doc, 0) == "1"  # no choices: text
    assert make_task(tmp_path, PLAIN.replace("answer", "\"{{ [word, 'x'] }}\"")).target(doc, 0) == ["dog", "x"]  # [...] is a list
    assert make_task(tmp_path, PLAIN.replace("answer", "'[not a literal'")).target(doc, 0) == "[not a literal"
    assert make_task(tmp_path, PLAIN.replace("answer", "'[a b]'")).target(doc, 0) == "[a b]"  # not Python: stays text
    assert make_task(tmp_path, MC + "doc_to_target: 0\n").target(doc, 0) == 0
    assert make_task(tmp_path, MC + "doc_to_target: word\n").target(doc, 0) == "dog"  # a column as it is


def test_choices_from_a_mapping_are_its_values(tmp_path: Path) -> None:
    body = "test_split: test\noutput_type: multiple_choice\ndoc_to_text: question\ndoc_to_target: 0\ndoc_to_choice:\n  A: cat\n  B: dog\n"
    assert make_task(tmp_path, body).choices({"question": "q"}, 0) == ["cat", "dog"]


def test_full_docs_are_passed_when_the_yaml_asks(tmp_path: Path) -> None:
    body = PLAIN + "process_results: !function utils.results_full\n"
    docs = [{"answer": "a"}] * 4
    assert make_task(tmp_path, body).results_of({"answer": "a"}, ["a"], 0, full_docs=docs) == {"match": None}
    assert make_task(tmp_path, body + "full_docs: true\n").results_of({"answer": "a"}, ["a"], 0, full_docs=docs) == {"match": 4}
    # A function without the parameter is called as (doc, results) even with full_docs: true.
    plain = make_task(tmp_path, PLAIN + "full_docs: true\nprocess_results: !function utils.process_results\n")
    assert plain.results_of({"answer": "a"}, ["a"], 0, full_docs=docs) == {"match": 1.0}


# --- prompts that cannot be built (issue 12, item 14) -----------------------------------------------


@pytest.mark.parametrize("template", ["Q: {{ question", "{% if question %}yes", "{{ question | no_such_filter }}"])
def test_jinja_syntax_error_names_file_and_key_at_construction(tmp_path: Path, template: str) -> None:
    with pytest.raises(TaskConfigError) as caught:
        make_task(tmp_path, f"test_split: test\ndoc_to_text: {template!r}\n")
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 't.yaml'}, key 'doc_to_text': Jinja syntax error on line 1 of the template: ")
    assert "\n" not in message


def test_jinja_syntax_error_in_target_and_choices(tmp_path: Path) -> None:
    with pytest.raises(TaskConfigError, match="key 'doc_to_target': Jinja syntax error"):
        make_task(tmp_path, PLAIN.replace("answer", "'{{ answer'"))
    with pytest.raises(TaskConfigError, match="key 'doc_to_choice': Jinja syntax error"):
        make_task(tmp_path, MC.replace('"{{options}}"', '"{{options"') + "doc_to_target: 0\n")


def test_regex_replace_filter(tmp_path: Path) -> None:
    task = make_task(tmp_path, "test_split: test\ndoc_to_text: \"{{ question | regex_replace('[0-9]+', '#') }}\"\n")
    assert task.text({"question": "q12 and 7"}, 0) == "q# and #"


def test_null_field_in_a_template_is_an_error_naming_task_doc_and_field(tmp_path: Path) -> None:
    task = make_task(tmp_path, 'test_split: test\ndoc_to_text: "Q: {{question}} ({{hint}})"\n')
    assert task.text({"question": "x", "hint": "h"}, 0) == "Q: x (h)"
    with pytest.raises(DocumentError) as caught:
        task.text({"question": None, "hint": "h"}, 3)
    assert str(caught.value) == "task t doc 3: doc_to_text: field 'question' is null or missing, so the template would print None"
    # A template that handles the null itself is fine.
    guarded = make_task(tmp_path, "test_split: test\ndoc_to_text: \"{{ question }}{{ ' ' + hint if hint else '' }}\"\n")
    assert guarded.text({"question": "x", "hint": None}, 0) == "x"


def test_null_column_or_none_from_a_function_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=r"^task t doc 2: field 'question' is null or missing, so there is no prompt$"):
        make_task(tmp_path, PLAIN).text({"question": None}, 2)
    with pytest.raises(DocumentError, match=r"^task t doc 4: doc_to_text returned None, so there is no prompt$"):
        make_task(tmp_path, "test_split: test\ndoc_to_text: !function utils.text_none\n").text({"question": "x"}, 4)


# --- rendering once ----------------------------------------------------------------------------------


def test_render_calls_each_function_once_per_doc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with_docs(monkeypatch, test=DOCS[:3], train=DOCS[5:7])
    body = (
        "test_split: test\ntraining_split: train\nnum_fewshot: 1\nfewshot_config:\n  sampler: first_n\noutput_type: loglikelihood\n"
        "doc_to_text: !function utils.counted_text\ndoc_to_visual: !function utils.counted_visual\ndoc_to_target: !function utils.counted_target\n"
    )
    task = make_task(tmp_path, body)
    calls = task._doc_to_text.__globals__["CALLS"]
    rendered = task.render(1, task.eval_docs()[1], chat=False)
    assert rendered.text == "q1" and rendered.target_text == "a1" and rendered.visuals == ()
    assert [(example.question, example.answer) for example in rendered.examples] == [("q5", "a5")]
    # The doc: text, visuals, target once each; its example: text and target once each.
    assert sorted(calls) == sorted([("text", "q1"), ("visual", "q1"), ("text", "q5"), ("target", "q5"), ("target", "q1")])
