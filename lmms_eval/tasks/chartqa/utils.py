"""ChartQA (test): questions about charts, scored by relaxed accuracy.

Relaxed accuracy (ChartQA / Pix2Struct): both strings are read as numbers, a trailing "%"
meaning "divide by 100" (on each side on its own, so "45%" against a gold "45" is 0.45
against 45: wrong). When the prediction reads as a number and the gold as a non-zero
number, the answer is right iff |prediction - gold| / |gold| <= 0.05. Otherwise (text,
or a gold of 0) it is right iff the two strings are equal ignoring case, with no other
cleaning: a trailing "." or a unit breaks both paths.

The overall score counts all 2,500 questions; the human-written and the augmented
(machine-generated) halves are also scored on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lmms_eval.tasks._common.vqa import doc_to_visual, question_prompt

__all__ = ["doc_to_visual", "doc_to_text", "process_results"]

MAX_RELATIVE_CHANGE = 0.05
SPLIT_METRICS = {"human_test": "relaxed_human_split", "augmented_test": "relaxed_augmented_split"}


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    return question_prompt(doc["question"], lmms_eval_specific_kwargs)


def to_float(text: str) -> float | None:
    """Python's float(), after turning a trailing "%" (or several) into a division by 100."""
    try:
        if text.endswith("%"):
            return float(text.rstrip("%")) / 100.0
        return float(text)
    except ValueError:
        return None


def relaxed_correctness(prediction: str, gold: str) -> bool:
    predicted, expected = to_float(prediction), to_float(gold)
    if predicted is not None and expected:  # a gold of 0 (or one that is not a number) compares as text
        return abs(predicted - expected) / abs(expected) <= MAX_RELATIVE_CHANGE
    return prediction.lower() == gold.lower()


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, float]:
    correct = float(relaxed_correctness(results[0], str(doc["answer"])))
    scores = {"relaxed_overall": correct}
    split_metric = SPLIT_METRICS.get(doc.get("type"))
    if split_metric is not None:
        scores[split_metric] = correct
    return scores
