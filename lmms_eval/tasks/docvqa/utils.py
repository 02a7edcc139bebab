"""DocVQA (validation): questions about scanned document pages, scored by ANLS.

ANLS is the framework's `anls` metric (lmms_eval.metrics.sample), which is the DocVQA
paper's definition: strings lower-cased, stripped and whitespace-collapsed; per gold
answer NL = edit distance / length of the longer string, scoring 1 - NL when NL < 0.5 and
0 otherwise; the best gold counts. Besides the mean, the ANLS per `question_types` entry
(a question can have several, e.g. "table/list" and "layout"), as the official
evaluation breaks it down.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lmms_eval.metrics.sample import anls
from lmms_eval.tasks._common.vqa import as_list, categorised, category_means, doc_to_visual, question_prompt

__all__ = ["doc_to_visual", "doc_to_text", "process_results", "category_means"]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    return question_prompt(doc["question"], lmms_eval_specific_kwargs)


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    score = anls(results[0], as_list(doc["answers"]))
    return {"anls": score, "anls_by_question_type": categorised(score, as_list(doc.get("question_types")))}
