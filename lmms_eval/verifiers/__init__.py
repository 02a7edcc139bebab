"""lmms-eval's verifier import path (`from lmms_eval.verifiers import VerificationPipeline,
VerifyResult`): extract an answer from a prediction, then have a verifier score it.
Names and behaviour follow shared/compat.md §3.14."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class VerifyResult:
    score: float
    is_correct: bool
    raw_output: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


class Extractor(Protocol):
    def extract(self, prediction: Any) -> str: ...


class Verifier(Protocol):
    def verify(self, question: str, prediction: str, ground_truth: Any, **kwargs: Any) -> VerifyResult: ...


class VerificationPipeline:
    """The extractors in order, then the verifier; the metadata keeps both predictions."""

    def __init__(self, extractors: Sequence[Extractor] | None = None, verifier: Verifier | None = None) -> None:
        if verifier is None:
            raise ValueError("VerificationPipeline needs a verifier")
        self.extractors = list(extractors or [])
        self.verifier = verifier

    def __call__(self, question: str, prediction: Any, ground_truth: Any, **kwargs: Any) -> VerifyResult:
        extracted = prediction
        for extractor in self.extractors:
            extracted = extractor.extract(extracted)
        result = self.verifier.verify(question, extracted, ground_truth, **kwargs)
        result.metadata["raw_prediction"] = prediction
        result.metadata["extracted_prediction"] = extracted
        return result


__all__ = ["VerificationPipeline", "VerifyResult"]
