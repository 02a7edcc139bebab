"""Filters that pick one response out of a doc's several (repeats)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from lmms_eval.api.filter import Filter


class TakeFirst(Filter):
    """Keep the first response of each doc (the result is one value, not a list)."""

    def apply(self, responses: Iterable[Any], docs: Iterable[dict[str, Any]]) -> list[Any]:
        return [doc_responses[0] if isinstance(doc_responses, list) else doc_responses for doc_responses in responses]


class MajorityVote(Filter):
    """Keep the most frequent response; a tie goes to the one that appeared first."""

    def apply(self, responses: Iterable[Any], docs: Iterable[dict[str, Any]]) -> list[Any]:
        return [self._vote(doc_responses) for doc_responses in responses]

    @staticmethod
    def _vote(doc_responses: Any) -> Any:
        if not isinstance(doc_responses, list):
            return doc_responses
        counts = Counter(doc_responses)
        best = max(counts.values())
        return next(response for response in doc_responses if counts[response] == best)


class TakeFirstK(Filter):
    """Keep the first `k` responses of each doc, as a list (pass@k-style metrics score them)."""

    def __init__(self, k: int) -> None:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"take_first_k needs k, a whole number of at least 1, not {k!r}")
        self.k = k

    def apply(self, responses: Iterable[Any], docs: Iterable[dict[str, Any]]) -> list[Any]:
        return [doc_responses[: self.k] if isinstance(doc_responses, list) else [doc_responses] for doc_responses in responses]
