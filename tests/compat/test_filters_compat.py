"""lmms-eval's filter import paths (compat.md §3.7), built the way a YAML step builds them:
the class called with the step's keywords."""

from __future__ import annotations

import re
import unicodedata

import pytest

from lmms_eval.api.filter import Filter
from lmms_eval.filters import FILTERS
from lmms_eval.filters import Filter as ReExportedFilter
from lmms_eval.filters.extraction import ExtendedRegexFilter, MultiChoiceRegexFilter, RegexFilter
from lmms_eval.filters.transformation import MapFilter


def test_filter_is_re_exported_and_the_registry_kept() -> None:
    assert ReExportedFilter is Filter
    assert FILTERS.get("regex") is RegexFilter and FILTERS.get("multi_choice_regex") is MultiChoiceRegexFilter


def test_regex_filter() -> None:
    default = RegexFilter()
    assert default.apply([["#### 42", "no"]], [{}]) == [["42", "[invalid]"]]
    assert (default.regex_pattern, default.regex.pattern, default.group_select, default.fallback) == (
        r"#### (\-?[0-9\.\,]+)", r"#### (\-?[0-9\.\,]+)", 0, "[invalid]",
    )  # fmt: skip
    last = RegexFilter(regex_pattern=r"(-?[$0-9.,]{2,})|(-?[0-9]+)", group_select=-1)
    assert last.apply([["a 12 b 7"]], [{}]) == [["7"]]


def test_extended_regex_filter_applies_like_regex_filter() -> None:
    step = ExtendedRegexFilter(regex_pattern=r"answer: (\w+)", fallback="?", ignore_case=True)
    assert step.apply([["answer: Paris", "none"]], [{}]) == [["Paris", "?"]]
    assert isinstance(step, RegexFilter) and isinstance(step, Filter)


def test_filter_ignores() -> None:
    step = ExtendedRegexFilter(ignore_case=True, ignore_punctuation=True, regexes_to_ignore=[r"\s+"])
    assert step.filter_ignores("Hello, World!") == "helloworld"
    assert ExtendedRegexFilter().filter_ignores("Hello, World!") == "Hello, World!"
    # Unicode punctuation goes too; symbols such as "$" are not punctuation.
    assert ExtendedRegexFilter(ignore_punctuation=True).filter_ignores("¿Qué? «sí» 。$5") == "Qué sí $5"


def test_punct_tbl_is_a_class_attribute_covering_unicode_punctuation() -> None:
    table = ExtendedRegexFilter.punct_tbl
    assert table is ExtendedRegexFilter().punct_tbl
    assert ord("。") in table and ord("!") in table and ord("$") not in table
    assert all(unicodedata.category(chr(code)).startswith("P") for code in list(table)[:500])


def test_find_match() -> None:
    step = ExtendedRegexFilter()
    assert step.find_match(re.compile("(a)|(b)"), "b", {"b": "(B)"}) == "(B)"
    assert step.find_match(re.compile("(a)|(b)"), "a") == "a"
    assert step.find_match(re.compile("x"), "b") == []
    assert step.find_match(re.compile("x"), "b", {"b": "(B)"}) == []


def test_map_filter() -> None:
    step = MapFilter(mapping_dict={"A": 1, "B": 2}, default_value=0)
    assert step.apply([["A", "C"], ["B"]], [{}, {}]) == [[1, 0], [2]]
    assert step.mapping_dict == {"A": 1, "B": 2} and step.default_value == 0
    assert MapFilter({"A": 1}).apply([["A", "Z"]], [{}]) == [[1, None]]  # unknown -> default_value, None too
    assert MapFilter().apply([["A"]], [{}]) == [[None]]
    with pytest.raises(AssertionError):
        MapFilter(mapping_dict=[("A", 1)])


def test_subclass_returning_one_string_per_request() -> None:
    """The library's MultiChoiceRegexFilter subclasses override apply and return strings."""

    class FirstLetter(ExtendedRegexFilter):
        def apply(self, resps, docs):
            return [self.find_match(self.regex, r[0]) or self.fallback for r in resps]

    step = FirstLetter(regex_pattern=r"\(([A-D])\)")  # as a YAML step: keywords only
    assert step.apply([["so (C)"], ["none"]], [{}, {}]) == ["C", "[invalid]"]
