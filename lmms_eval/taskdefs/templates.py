"""Turning a YAML value (function, column name, Jinja template, constant) into `doc -> value`.

Task functions are called the way lmms-eval calls them, so existing task folders work as
they are. The rules for a function's second argument differ by key (compat.md 4.2-4.5):

- doc_to_text, doc_to_target: `(doc, extra)` when the task sets that extra argument
  (lmms_eval_specific_kwargs, model_specific_target_kwargs), else `(doc)`;
- doc_to_visual: `(doc, kwargs)` only when kwargs are set and the function has exactly
  two parameters;
- doc_to_messages: `(doc, lmms_eval_specific_kwargs=kwargs)` when the function names that
  parameter or takes `**kwargs`, `(doc, kwargs)` when it has exactly two parameters.

A function that cannot take the second argument is called with the doc alone (lmms-eval
would fail on it; nothing is lost by being lenient).
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable
from enum import Enum
from functools import lru_cache
from typing import Any

from lmms_eval.errors import TaskConfigError
from lmms_eval.taskdefs.functions import FunctionRef

DocFn = Callable[[dict[str, Any]], Any]
KWARGS_PARAMETER = "lmms_eval_specific_kwargs"


class SecondArgument(Enum):
    """How a task function receives the extra argument its key carries."""

    POSITIONAL = "positional"  # doc_to_text, doc_to_target
    IF_TWO_PARAMETERS = "if_two_parameters"  # doc_to_visual
    KEYWORD_OR_TWO = "keyword_or_two"  # doc_to_messages


class NullField(Exception):
    """A template printed a value that is None: the doc's field is null or missing."""

    def __init__(self, fields: list[str]):
        self.fields = fields
        names = ", ".join(repr(name) for name in fields) or "a value"
        super().__init__(f"field {names} is null or missing" if fields else "an expression gave None")


def _regex_replace(text: str, pattern: str, replacement: str, count: int = 0) -> str:
    """The extra Jinja filter lmms-eval templates use: `{{ x | regex_replace('a+', 'b') }}`."""
    return re.sub(pattern, replacement, str(text), count=count)


class _PrintedNone(Exception):
    pass


def _refuse_none(value: Any) -> Any:
    # Jinja prints None as the text "None": in a prompt that is a silent corruption.
    if value is None:
        raise _PrintedNone
    return value


@lru_cache(maxsize=None)
def _jinja_environment(refuse_none: bool = False) -> Any:
    import jinja2

    # StrictUndefined: a misspelt field is an error naming the doc, not a silent empty prompt.
    environment = jinja2.Environment(
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, finalize=_refuse_none if refuse_none else None
    )
    environment.filters["regex_replace"] = _regex_replace
    return environment


def _is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


def doc_function(
    value: Any,
    key: str,
    extra_arg: Any = None,
    *,
    source: str = "",
    second: SecondArgument = SecondArgument.POSITIONAL,
    refuse_none: bool = False,
) -> DocFn | None:
    """A `doc -> value` callable for one YAML key.

    `extra_arg` is the key's second argument (None: the task sets none). A Jinja syntax
    error is a TaskConfigError naming `source` and `key`, raised here, before any doc.
    With `refuse_none`, a template that prints None raises `NullField`.
    """
    if value is None:
        return None
    if isinstance(value, FunctionRef):
        return bind(value.resolve(key), extra_arg, second)
    if callable(value):
        return bind(value, extra_arg, second)
    if isinstance(value, str):
        return _string_function(value, key, source, refuse_none)
    return lambda doc: value


def bind(function: Callable[..., Any], extra_arg: Any, second: SecondArgument) -> DocFn:
    """`function` as `doc -> value`, with the extra argument passed as its key's rule says."""
    if extra_arg is None:
        return function
    parameters = _parameters(function)
    if parameters is None:
        return function
    if second is SecondArgument.KEYWORD_OR_TWO and (
        KWARGS_PARAMETER in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    ):
        return lambda doc: function(doc, **{KWARGS_PARAMETER: extra_arg})
    if second is SecondArgument.POSITIONAL:
        takes_two = _positional_count(parameters) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in parameters.values())
    else:
        takes_two = len(parameters) == 2
    return (lambda doc: function(doc, extra_arg)) if takes_two else function


def _parameters(function: Callable[..., Any]) -> dict[str, inspect.Parameter] | None:
    try:
        return dict(inspect.signature(function).parameters)
    except (TypeError, ValueError):  # some builtins have no signature
        return None


def _positional_count(parameters: dict[str, inspect.Parameter]) -> int:
    return sum(1 for p in parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


def _string_function(text: str, key: str, source: str, refuse_none: bool = False) -> DocFn:
    """A column name when the doc has that field, else a template (or a literal)."""
    render = _template(text, key, source, refuse_none) if _is_template(text) else (lambda doc: text)

    def column_or_rendered(doc: dict[str, Any]) -> Any:
        return doc[text] if text in doc else render(doc)

    return column_or_rendered


def _template(text: str, key: str, source: str, refuse_none: bool) -> DocFn:
    import jinja2
    from jinja2 import meta

    environment = _jinja_environment(refuse_none)
    try:
        template = environment.from_string(text)
        fields = sorted(meta.find_undeclared_variables(environment.parse(text)))
    except jinja2.TemplateSyntaxError as error:
        raise TaskConfigError(f"Jinja syntax error on line {error.lineno} of the template: {error.message}", path=source, key=key) from None

    def render(doc: dict[str, Any]) -> str:
        try:
            return template.render(**doc)
        except _PrintedNone:
            raise NullField([name for name in fields if name in doc and doc[name] is None]) from None

    return render


def choices_function(value: Any, key: str = "doc_to_choice", source: str = "") -> DocFn | None:
    """doc_to_choice: a list, a dict (its values), a column, a function of the doc, or a
    template that renders a Python literal."""
    if isinstance(value, dict):
        choices = list(value.values())
        return lambda doc: choices
    if isinstance(value, str) and _is_template(value):
        render = _template(value, key, source, refuse_none=False)
        return lambda doc: doc[value] if value in doc else ast.literal_eval(render(doc))
    return doc_function(value, key, source=source)


def target_function(value: Any, key: str, extra_arg: Any, *, source: str = "", has_choices: bool = False) -> DocFn | None:
    """doc_to_target: a column's value as it is; a template's (or literal's) text typed as
    lmms-eval types it: digits are a choice index when the task has choices, and `[...]`
    is a Python list literal."""
    if not isinstance(value, str):
        return doc_function(value, key, extra_arg, source=source)
    render = _template(value, key, source, refuse_none=False) if _is_template(value) else (lambda doc: value)

    def target(doc: dict[str, Any]) -> Any:
        if value in doc:
            return doc[value]
        return _typed_target(render(doc), has_choices)

    return target


def _typed_target(text: str, has_choices: bool) -> Any:
    if has_choices and text.isdecimal():
        return int(text)
    if len(text) >= 2 and text.startswith("[") and text.endswith("]"):
        try:
            return ast.literal_eval(text)
        except (SyntaxError, ValueError):
            return text
    return text
