"""Every built-in filter, and a custom filter with the batch `apply(responses, docs)` signature."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import write

from lmms_eval.api.filter import Filter, ResponseMap
from lmms_eval.errors import UnknownNameError
from lmms_eval.filters import FILTERS
from lmms_eval.taskdefs.functions import FunctionRef


def run(name: str, responses: list[Any], docs: list[dict[str, Any]] | None = None, **kwargs: Any) -> list[Any]:
    """Build a registered filter as a YAML step would, and apply it to a batch."""
    return list(FILTERS.get(name)(**kwargs).apply(responses, docs or [{} for _ in responses]))


def test_registry_names() -> None:
    assert FILTERS.names() == sorted(
        ["take_first", "take_first_k", "majority_vote", "regex", "multi_choice_regex", "lowercase", "uppercase", "remove_whitespace", "map", "strip_thinking"]
    )
    with pytest.raises(UnknownNameError, match=r"unknown filter 'lowercas'; did you mean 'lowercase'"):
        FILTERS.get("lowercas")


# --- selection ----------------------------------------------------------------------------


def test_take_first() -> None:
    assert run("take_first", [["a", "b"], ["c"], "d"]) == ["a", "c", "d"]


def test_majority_vote() -> None:
    assert run("majority_vote", [["x", "y", "y"], ["b", "a", "a", "b"], ["only"], "plain"]) == ["y", "b", "only", "plain"]


# --- regex ----------------------------------------------------------------------------------


def test_regex_default_pattern_is_gsm8k_style() -> None:
    assert run("regex", [["so #### -1,234.5\n"], ["no answer"]]) == [["-1,234.5"], ["[invalid]"]]


def test_regex_group_select_positive_negative_and_out_of_range() -> None:
    text = "A=1, B=2, C=3"
    assert run("regex", [text], regex_pattern=r"=(\d)") == ["1"]
    assert run("regex", [text], regex_pattern=r"=(\d)", group_select=1) == ["2"]
    assert run("regex", [text], regex_pattern=r"=(\d)", group_select=-1) == ["3"]
    assert run("regex", [text], regex_pattern=r"=(\d)", group_select=-3) == ["1"]
    assert run("regex", [text], regex_pattern=r"=(\d)", group_select=5, fallback="none") == ["none"]


def test_regex_without_groups_keeps_whole_match_stripped() -> None:
    assert run("regex", ["answer:  yes "], regex_pattern=r"\s+yes\s") == ["yes"]


def test_regex_several_capture_groups_first_non_empty() -> None:
    pattern = r"answer is \((\w)\)|answer: (\w)"
    assert run("regex", ["the answer: C"], regex_pattern=pattern) == ["C"]
    assert run("regex", ["the answer is (B)"], regex_pattern=pattern) == ["B"]
    assert run("regex", ["answer: x then answer is (Y)"], regex_pattern=pattern, group_select=-1) == ["Y"]


def test_regex_empty_capture_gives_fallback() -> None:
    assert run("regex", ["value=;"], regex_pattern=r"value=(\d*);", fallback="?") == ["?"]


# --- multi_choice_regex ------------------------------------------------------------------


DOC = {"choices": ["cat", "black cat", "1", "12"]}


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("The answer is (C).", "(C)"),  # the primary pattern
        ("I pick the black cat", "(B)"),  # choice text -> its letter, the longest found wins over "cat"
        ("it is a cat", "(A)"),
        ("12", "(D)"),  # "12" also contains "1"
        ("B", "(B)"),  # a lone letter
        ("D.", "(D)"),
        ("(A) maybe", "(A)"),
        ("Answer: C, because", "(C)"),
        ("nothing useful", "[invalid]"),
        ("E", "[invalid]"),  # only as many letters as choices
    ],
)
def test_multi_choice_regex(response: str, expected: str) -> None:
    assert run("multi_choice_regex", [[response]], [DOC]) == [[expected]]


def test_multi_choice_regex_options() -> None:
    doc = {"options": ["Paris!", "Rome"]}
    assert run("multi_choice_regex", ["paris"], [doc], choices_key="options") == ["[invalid]"]  # case and "!" matter
    assert run("multi_choice_regex", ["paris"], [doc], choices_key="options", ignore_case=True, ignore_punctuation=True) == ["(A)"]
    assert run("multi_choice_regex", ["Answer: [b]"], [doc], regex_pattern=r"\[([a-z])\]", fallback="X") == ["(b)"]
    assert run("multi_choice_regex", ["Answer: <long>"], [doc], regex_pattern=r"<(\w+)>") == ["long"]  # not one letter: kept
    assert run("multi_choice_regex", ["???"], [doc], fallback="none") == ["none"]


def test_multi_choice_regex_ignores_patterns_and_unicode_punctuation() -> None:
    assert run("multi_choice_regex", ["the black-cat"], [DOC]) == ["(A)"]
    assert run("multi_choice_regex", ["the black-cat"], [DOC], regexes_to_ignore=[r"[\s-]"]) == ["(B)"]  # "blackcat"
    quoted = {"choices": ["Paris", "«Rome»"]}
    assert run("multi_choice_regex", ["Rome。"], [quoted]) == ["[invalid]"]
    assert run("multi_choice_regex", ["Rome。"], [quoted], ignore_punctuation=True) == ["(B)"]  # « » 。 are punctuation too


def test_multi_choice_regex_without_choices_allows_any_letter() -> None:
    assert run("multi_choice_regex", ["Z"], [{}]) == ["(Z)"]


# --- text rewrites ------------------------------------------------------------------------


def test_case_and_whitespace() -> None:
    assert run("lowercase", [["AbC", "X"], "Q"]) == [["abc", "x"], "q"]
    assert run("uppercase", [["AbC"]]) == [["ABC"]]
    assert run("remove_whitespace", [["  \n a b  "]]) == [["a b  "]]


def test_map() -> None:
    mapping = {"yes": 1, "no": 0}
    assert run("map", [["yes", "no", "maybe"]], mapping_dict=mapping) == [[1, 0, "maybe"]]
    assert run("map", [["yes", "maybe"]], mapping_dict=mapping, default_value=-1) == [[1, -1]]
    assert run("map", ["x"]) == ["x"]


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("<think>hmm\nlong</think>\n Paris", "Paris"),
        ("<think>a</think>x<think>b</think> final", "x final"),  # text between two blocks is answer text
        ("reasoning begun by the template</think>\nParis", "Paris"),
        ("x</think>y<think>cut off", "y"),
        ("<THINK>upper case is not a tag</THINK> B", "<THINK>upper case is not a tag</THINK> B"),
        ("<think>still thinking", ""),  # cut off inside the reasoning
        ("Paris <think>more", "Paris"),
        ("<think>a</think> Paris <think>again, cut off", "Paris"),
        ("no tags at all ", "no tags at all"),
    ],
)
def test_strip_thinking_default_tags(response: str, expected: str) -> None:
    assert run("strip_thinking", [[response]]) == [[expected]]


def test_strip_thinking_custom_tags() -> None:
    tags = [["<reasoning>", "</reasoning>"], ["[[", "]]"]]
    assert run("strip_thinking", ["<reasoning>x</reasoning>[[y]] z <think>kept</think>"], tags=tags) == ["z <think>kept</think>"]


# --- the filter contract -------------------------------------------------------------------


def test_filter_keywords_become_attributes() -> None:
    step = Filter(threshold=3, name="x")
    assert (step.threshold, step.name) == (3, "x")
    with pytest.raises(NotImplementedError):
        Filter().apply([], [])


def test_response_map_passes_each_doc() -> None:
    class AppendKey(ResponseMap):
        def map(self, response: Any, doc: dict[str, Any]) -> Any:
            return f"{response}:{doc['k']}"

    assert AppendKey().apply([["a", "b"], "c"], [{"k": 1}, {"k": 2}]) == [["a:1", "b:1"], "c:2"]


def test_custom_batch_filter_from_task_folder(tmp_path: Path) -> None:
    write(
        tmp_path / "custom_filters.py",
        """
        from lmms_eval.api.filter import Filter

        class PickGold(Filter):
            '''Keeps the response equal to the doc's gold, else the last one; sees the whole batch.'''

            def apply(self, responses, docs):
                self.batch_size = len(docs)
                return [
                    next((r for r in resps if r == doc["gold"]), resps[-1] + self.suffix)
                    for resps, doc in zip(responses, docs)
                ]
        """,
    )
    cls = FunctionRef("custom_filters.PickGold", tmp_path, str(tmp_path / "t.yaml")).resolve("filter_list")
    step = cls(suffix="!")
    out = step.apply([["a", "b"], ["x", "y"]], [{"gold": "b"}, {"gold": "z"}])
    assert list(out) == ["b", "y!"]
    assert step.batch_size == 2


def test_take_first_k_keeps_a_list():
    from lmms_eval.filters.selection import TakeFirstK

    assert TakeFirstK(k=2).apply([["a", "b", "c"], ["d"], "e"], [{}, {}, {}]) == [["a", "b"], ["d"], ["e"]]
    with pytest.raises(ValueError, match="take_first_k needs k"):
        TakeFirstK(k=0)
