"""templates: YAML values (column, Jinja, function, constant) as `doc -> value`."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write
from jinja2 import UndefinedError

from lmms_eval.errors import TaskConfigError
from lmms_eval.taskdefs.functions import FunctionRef
from lmms_eval.taskdefs.templates import NullField, SecondArgument, bind, choices_function, doc_function, target_function

DOC = {"question": "What?", "answer": "red", "options": ["x", "y's", 'z"q'], "n": 3}


def test_none_is_none() -> None:
    assert doc_function(None, "doc_to_text") is None
    assert choices_function(None) is None


def test_column_or_literal() -> None:
    assert doc_function("question", "doc_to_text")(DOC) == "What?"
    assert doc_function("not a column", "doc_to_text")(DOC) == "not a column"
    assert doc_function("n", "doc_to_target")(DOC) == 3


def test_jinja_template() -> None:
    render = doc_function("Q: {{question}} ({{ n + 1 }}){% if n > 2 %}!{% endif %}\n", "doc_to_text")
    assert render(DOC) == "Q: What? (4)!\n"  # trailing newline kept


def test_jinja_undefined_field_is_an_error() -> None:
    with pytest.raises(UndefinedError):
        doc_function("{{ questoin }}", "doc_to_text")(DOC)


def test_constants_and_callables() -> None:
    assert doc_function(2, "doc_to_target")(DOC) == 2
    assert doc_function(["a", "b"], "doc_to_choice")(DOC) == ["a", "b"]
    assert doc_function(lambda doc: doc["n"] * 2, "doc_to_target")(DOC) == 6


def test_function_gets_extra_argument_only_when_it_takes_one(tmp_path: Path) -> None:
    write(
        tmp_path / "utils.py",
        """
        def one(doc):
            return doc["question"]

        def two(doc, kwargs=None):
            return (kwargs or {}).get("pre", "") + doc["question"]

        def star(doc, *rest):
            return rest

        def keyword_only(doc, *, kwargs=None):
            return kwargs
        """,
    )
    ref = lambda name: FunctionRef(f"utils.{name}", tmp_path, str(tmp_path / "t.yaml"))  # noqa: E731
    assert doc_function(ref("one"), "doc_to_text", {"pre": "P: "})(DOC) == "What?"
    assert doc_function(ref("two"), "doc_to_text", {"pre": "P: "})(DOC) == "P: What?"
    assert doc_function(ref("two"), "doc_to_text")(DOC) == "What?"
    assert doc_function(ref("star"), "doc_to_text", "extra")(DOC) == ("extra",)
    assert doc_function(ref("keyword_only"), "doc_to_text", "extra")(DOC) is None


def test_choices_from_column_list_and_template() -> None:
    assert choices_function("options")(DOC) == ["x", "y's", 'z"q']
    assert choices_function(["A", "B"])(DOC) == ["A", "B"]
    assert choices_function("{{options}}")(DOC) == ["x", "y's", 'z"q']  # rendered repr parsed back
    assert choices_function("{{ [answer, 'blue'] }}")(DOC) == ["red", "blue"]
    assert choices_function("['{{answer}}', 'no']")(DOC) == ["red", "no"]


def test_choice_template_that_is_not_a_literal_fails() -> None:
    with pytest.raises((ValueError, SyntaxError)):
        choices_function("{{answer}} or blue")(DOC)


# --- second arguments by key (compat.md 4.2-4.5) ------------------------------------------------


def one(doc):
    return ("one", doc)


def two(doc, kwargs):
    return ("two", kwargs)


def two_optional(doc, kwargs=None):
    return ("two", kwargs)


def named(doc, other=None, lmms_eval_specific_kwargs=None):
    return ("named", lmms_eval_specific_kwargs)


def catch_all(doc, **kwargs):
    return ("catch_all", kwargs)


def three(doc, a=None, b=None):
    return ("three", a)


@pytest.mark.parametrize(
    "second, function, expected",
    [
        (SecondArgument.POSITIONAL, two, ("two", "K")),
        (SecondArgument.POSITIONAL, three, ("three", "K")),  # any function that takes a second positional
        (SecondArgument.POSITIONAL, one, ("one", DOC)),
        (SecondArgument.IF_TWO_PARAMETERS, two_optional, ("two", "K")),
        (SecondArgument.IF_TWO_PARAMETERS, three, ("three", None)),  # not exactly two: the doc alone
        (SecondArgument.KEYWORD_OR_TWO, named, ("named", "K")),  # by name, though it is the third parameter
        (SecondArgument.KEYWORD_OR_TWO, catch_all, ("catch_all", {"lmms_eval_specific_kwargs": "K"})),
        (SecondArgument.KEYWORD_OR_TWO, two, ("two", "K")),
        (SecondArgument.KEYWORD_OR_TWO, three, ("three", None)),
    ],
)
def test_second_argument_rules(second, function, expected) -> None:
    assert bind(function, "K", second)(DOC) == expected


@pytest.mark.parametrize("second", list(SecondArgument))
def test_no_second_argument_when_the_task_sets_none(second) -> None:
    assert bind(two_optional, None, second)(DOC) == ("two", None)
    assert bind(named, None, second)(DOC) == ("named", None)


def test_syntax_error_is_a_config_error_naming_source_and_key() -> None:
    with pytest.raises(TaskConfigError, match=r"^t.yaml, key 'doc_to_text': Jinja syntax error on line 2 of the template: "):
        doc_function("Q:\n{{ question }", "doc_to_text", source="t.yaml")
    with pytest.raises(TaskConfigError, match="No filter named 'shout'"):
        doc_function("{{ question | shout }}", "doc_to_text", source="t.yaml")


def test_refuse_none_names_the_null_fields() -> None:
    render = doc_function("{{ question }} {{ answer }}", "doc_to_text", refuse_none=True)
    with pytest.raises(NullField) as caught:
        render({**DOC, "question": None})
    assert caught.value.fields == ["question"]
    assert str(caught.value) == "field 'question' is null or missing"
    assert doc_function("{{ question }}", "doc_to_text")({"question": None}) == "None"  # targets keep Jinja's rendering


def test_target_typing() -> None:
    assert target_function("{{ n }}", "doc_to_target", None, has_choices=True)(DOC) == 3
    assert target_function("{{ n }}", "doc_to_target", None)(DOC) == "3"
    assert target_function("[{{ n }}, 1]", "doc_to_target", None)(DOC) == [3, 1]
    assert target_function("options", "doc_to_target", None)(DOC) == ["x", "y's", 'z"q']
    assert target_function(["a"], "doc_to_target", None)(DOC) == ["a"]


def test_choices_from_a_mapping() -> None:
    assert choices_function({"A": "cat", "B": "dog"})(DOC) == ["cat", "dog"]
