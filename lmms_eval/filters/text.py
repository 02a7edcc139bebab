"""Per-response text rewrites."""

from __future__ import annotations

from typing import Any

from lmms_eval.api.filter import ResponseMap
from lmms_eval.api.reasoning import drop_unfinished_reasoning, strip_reasoning_tags


class Lowercase(ResponseMap):
    def map(self, response: Any, doc: dict[str, Any]) -> Any:
        return response.lower()


class Uppercase(ResponseMap):
    def map(self, response: Any, doc: dict[str, Any]) -> Any:
        return response.upper()


class RemoveLeadingWhitespace(ResponseMap):
    """`remove_whitespace`: drops whitespace at the start of the response."""

    def map(self, response: Any, doc: dict[str, Any]) -> Any:
        return response.lstrip()


class MapValues(ResponseMap):
    """`map`: replace whole responses by `mapping_dict`; others become `default_value` if given."""

    def __init__(self, mapping_dict: dict[str, Any] | None = None, default_value: Any = None) -> None:
        super().__init__()
        self.mapping = dict(mapping_dict or {})
        self.default_value = default_value

    def map(self, response: Any, doc: dict[str, Any]) -> Any:
        if response in self.mapping:
            return self.mapping[response]
        return response if self.default_value is None else self.default_value


class StripThinking(ResponseMap):
    """Drop reasoning blocks (`<think>...</think>` by default) and keep the final answer.

    lmms-eval's `strip_reasoning_tags` rule (lmms_eval/api/reasoning.py), with one step
    before it for each tag pair: an opening tag whose closing tag never came means the
    answer was cut off inside the reasoning, so the text is cut there (lmms-eval would keep
    the half-finished reasoning; an empty answer scores as what it is).
    """

    def __init__(self, tags: list[list[str]] | None = None) -> None:
        super().__init__()
        self.tags = [tuple(pair) for pair in (tags or [["<think>", "</think>"]])]

    def map(self, response: Any, doc: dict[str, Any]) -> Any:
        for opening, closing in self.tags:
            response = strip_reasoning_tags(drop_unfinished_reasoning(response, opening, closing), [(opening, closing)])
        return response
