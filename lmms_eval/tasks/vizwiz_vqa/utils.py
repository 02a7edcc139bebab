"""VizWiz-VQA (val): questions from blind users' photos, scored by VQA accuracy.

The prompt capitalises the question as Python's `str.capitalize()` does (the rest of the
question is lower-cased, as in lmms-eval). Scoring is the same as OK-VQA and TextVQA: the
EvalAI processor on prediction and all ten golds, then leave-one-out VQA accuracy, so
"Unanswerable" matches "unanswerable" golds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lmms_eval.tasks._common.vqa import doc_to_visual, question_prompt, textvqa_accuracy

__all__ = ["doc_to_visual", "doc_to_text", "doc_to_target", "process_results"]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    return question_prompt(doc["question"].capitalize(), lmms_eval_specific_kwargs)


def doc_to_target(doc: dict[str, Any]) -> list[str]:
    return list(doc["answers"])


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, float]:
    return {"exact_match": textvqa_accuracy(results[0], doc["answers"])}
