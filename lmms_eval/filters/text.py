"""Per-response text rewrites."""

from __future__ import annotations

from typing import Any

from lmms_eval.api.filter import ResponseMap


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

    An opening tag whose closing tag never came means the answer was cut off inside the
    reasoning: the result is empty rather than the half-finished reasoning.
    """

    def __init__(self, tags: list[list[str]] | None = None) -> None:
        super().__init__()
        self.tags = [tuple(pair) for pair in (tags or [["<think>", "</think>"]])]

    def map(self, response: Any, doc: dict[str, Any]) -> Any:
        for opening, closing in self.tags:
            if closing in response:
                response = response[response.rindex(closing) + len(closing) :]
            if opening in response:  # also after the last closing tag: a new block cut off
                response = response[: response.index(opening)]
        return response.strip()
