"""Turning a YAML value (function, column name, Jinja template, constant) into `doc -> value`."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from lmms_eval.taskdefs.functions import FunctionRef

DocFn = Callable[[dict[str, Any]], Any]


@lru_cache(maxsize=None)
def _jinja_environment() -> Any:
    import jinja2

    # StrictUndefined: a misspelt field is an error naming the doc, not a silent empty prompt.
    return jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def _is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


def doc_function(value: Any, key: str, extra_arg: Any = None) -> DocFn | None:
    """A `doc -> value` callable for one YAML key.

    A function receives `extra_arg` as its second argument when its signature takes one
    (lmms_eval_specific_kwargs for doc_to_text, model_specific_target_kwargs for targets).
    """
    if value is None:
        return None
    if isinstance(value, FunctionRef):
        function = value.resolve(key)
        if _accepts_second_argument(function):
            return lambda doc: function(doc, extra_arg)
        return function
    if callable(value):
        return value
    if isinstance(value, str):
        return _string_function(value)
    return lambda doc: value


def _string_function(text: str) -> DocFn:
    if _is_template(text):
        template = _jinja_environment().from_string(text)
        return lambda doc: template.render(**doc)

    def column_or_literal(doc: dict[str, Any]) -> Any:
        return doc[text] if text in doc else text

    return column_or_literal


def choices_function(value: Any, key: str = "doc_to_choice") -> DocFn | None:
    """doc_to_choice: a list, a column, a function, or a template that renders a list literal."""
    base = doc_function(value, key)
    if base is None or not isinstance(value, str) or not _is_template(value):
        return base

    def parsed(doc: dict[str, Any]) -> Any:
        return ast.literal_eval(base(doc))

    return parsed


def _accepts_second_argument(function: Callable[..., Any]) -> bool:
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in parameters)
