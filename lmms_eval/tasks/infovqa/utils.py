"""InfographicVQA (validation): questions about infographics, scored by ANLS.

ANLS is the framework's `anls` metric (lmms_eval.metrics.sample), the paper's definition
(see docvqa/utils.py). Besides the mean, the ANLS per answer type ("single span",
"multi-span", "question span", "non-extractive") and per operation ("counting",
"arithmetic", "sorting"), as the official evaluation breaks it down; a question counts
in each of its types.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lmms_eval.metrics.sample import anls
from lmms_eval.tasks._common.vqa import as_list, categorised, category_means, doc_to_visual, question_prompt

__all__ = ["doc_to_visual", "doc_to_text", "process_results", "category_means"]

BREAKDOWN_FIELDS = {"answer_type": "answer_type", "operation": "operation/reasoning"}  # prefix: field


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    return question_prompt(doc["question"], lmms_eval_specific_kwargs)


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    score = anls(results[0], as_list(doc["answers"]))
    categories = [f"{prefix}/{value}" for prefix, field in BREAKDOWN_FIELDS.items() for value in as_list(doc.get(field)) if value]
    return {"anls": score, "anls_by_type": categorised(score, categories)}
