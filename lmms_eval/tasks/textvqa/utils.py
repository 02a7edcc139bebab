"""TextVQA (validation): open answers about text in natural images, scored by VQA accuracy.

The prompt capitalises the question the way Python's `str.capitalize()` does (first
character upper-case, the rest lower-case). With `ocr: true` in the prompt kwargs the
Rosetta OCR tokens are added as a "Reference OCR token:" line, as in LLaVA-1.5's own
TextVQA question file. Scoring is TextVQA's evaluator: the EvalAI answer processor on the
prediction and on each of the ten human answers, then the leave-one-out VQA accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lmms_eval.tasks._common.vqa import doc_to_visual, question_prompt, textvqa_accuracy

__all__ = ["doc_to_visual", "doc_to_text", "doc_to_target", "process_results"]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    question = doc["question"].capitalize()
    if kwargs.get("ocr"):
        question += "\nReference OCR token: " + ", ".join(doc.get("ocr_tokens") or [])
    return question_prompt(question, kwargs)


def doc_to_target(doc: dict[str, Any]) -> list[str]:
    return list(doc["answers"])


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, float]:
    return {"exact_match": textvqa_accuracy(results[0], doc["answers"])}
