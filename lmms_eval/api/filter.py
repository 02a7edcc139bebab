"""The filter contract: post-processing of raw responses before scoring.

A filter sees every document's responses at once (`responses[i]` belongs to `docs[i]`),
which is the shape lmms-eval task folders' custom filters are written for. Built-in
filters are mostly per-response maps; `ResponseMap` makes those one-liners.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class Filter:
    """Subclass and implement `apply`; constructor keywords come from the YAML step."""

    def __init__(self, **kwargs: Any) -> None:
        for name, value in kwargs.items():
            setattr(self, name, value)

    def apply(self, responses: Iterable[Any], docs: Iterable[dict[str, Any]]) -> Iterable[Any]:
        raise NotImplementedError


class ResponseMap(Filter):
    """A filter that rewrites each response on its own (lists are mapped item by item)."""

    def apply(self, responses: Iterable[Any], docs: Iterable[dict[str, Any]]) -> list[Any]:
        return [self._map_doc(doc_responses, doc) for doc_responses, doc in zip(responses, docs)]

    def _map_doc(self, doc_responses: Any, doc: dict[str, Any]) -> Any:
        if isinstance(doc_responses, list):
            return [self.map(response, doc) for response in doc_responses]
        return self.map(doc_responses, doc)

    def map(self, response: Any, doc: dict[str, Any]) -> Any:
        raise NotImplementedError
