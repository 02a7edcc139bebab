"""Common Voice 15: LibriSpeech's prompt and scoring; reference `sentence`, language `locale`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lmms_eval.tasks._builtin.librispeech.utils import doc_to_text, doc_to_visual, english_wer

__all__ = ["doc_to_text", "doc_to_visual", "process_results", "wer"]


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    prediction = results[0] if results else ""
    return {"wer": {"gt": doc["sentence"], "pred": prediction, "language": doc["locale"]}}


def wer(records: Sequence[dict[str, Any]]) -> float:
    return english_wer(records, basic=True)
