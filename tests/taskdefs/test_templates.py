"""templates: YAML values (column, Jinja, function, constant) as `doc -> value`."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write
from jinja2 import UndefinedError

from lmms_eval.taskdefs.functions import FunctionRef
from lmms_eval.taskdefs.templates import choices_function, doc_function

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
