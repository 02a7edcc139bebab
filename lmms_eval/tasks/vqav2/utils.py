"""VQAv2: open answers about COCO images, scored by the original VQA evaluation tool's rule.

The prediction gets the tool's punctuation and digit/article steps; the ten human answers
are only stripped of tabs/newlines, and get the punctuation step alone when they are not
all identical (shared/benchmarks.md section 35). Then the leave-one-out VQA accuracy.
Besides the overall mean, the accuracy per `answer_type` (yes/no, number, other), as the
official tool reports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lmms_eval.tasks._common.vqa import as_list, categorised, category_means, doc_to_visual, question_prompt, vqav2_accuracy

__all__ = ["doc_to_visual", "doc_to_text", "human_answers", "process_results", "category_means"]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    return question_prompt(doc["question"], lmms_eval_specific_kwargs)


def human_answers(doc: dict[str, Any]) -> list[str]:
    """The ten answer strings. `answers` is a list of {answer, answer_confidence, answer_id};
    a copy saved with `Sequence` features holds a dict of lists instead."""
    answers = doc["answers"]
    if isinstance(answers, dict):
        return [str(answer) for answer in answers["answer"]]
    return [str(entry["answer"]) for entry in answers]


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    accuracy = vqav2_accuracy(results[0], human_answers(doc))
    answer_types = as_list(doc.get("answer_type"))  # a copy without the field still gets its overall score
    return {"exact_match": accuracy, "exact_match_by_answer_type": categorised(accuracy, answer_types)}

