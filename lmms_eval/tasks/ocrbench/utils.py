"""OCRBench (v1): 1,000 questions over ten OCR skills, scored as the official script does.

A prediction is right when one of the gold answers occurs in it as a substring:
- for the handwritten-math questions (`dataset == "HME100k"`), after stripping both and
  deleting every space and newline (so "x ^ 2" matches "x^2");
- for all others, after lower-casing, stripping and turning newlines into spaces.
No other folding (no full-width to ASCII mapping, no whitespace collapsing).

The official report is a count of right answers out of 1,000, per category ("Text
Recognition" is the sum of the six recognition types, 300 questions) and in total
("Final Score"). `ocrbench_accuracy` is that total divided by the number of questions
scored (Final Score / 1000 on the full set); `ocrbench_scores` holds the counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lmms_eval.tasks._common.vqa import as_list, doc_to_visual, question_prompt

__all__ = ["doc_to_visual", "doc_to_text", "process_results", "scores"]

MATH_DATASET = "HME100k"
RECOGNITION_TYPES = (
    "Regular Text Recognition",
    "Irregular Text Recognition",
    "Artistic Text Recognition",
    "Handwriting Recognition",
    "Digit String Recognition",
    "Non-Semantic Text Recognition",
)
# The official report's categories and the question types each one sums.
REPORT_CATEGORIES = {
    "Text Recognition": RECOGNITION_TYPES,
    "Scene Text-centric VQA": ("Scene Text-centric VQA",),
    "Doc-oriented VQA": ("Doc-oriented VQA",),
    "Key Information Extraction": ("Key Information Extraction",),
    "Handwritten Mathematical Expression Recognition": ("Handwritten Mathematical Expression Recognition",),
}
QUESTION_TYPES = tuple(kind for kinds in REPORT_CATEGORIES.values() for kind in kinds)


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    return question_prompt(doc["question"].strip(), lmms_eval_specific_kwargs)


def _without_spaces(text: str) -> str:
    return text.strip().replace("\n", " ").replace(" ", "")


def _folded(text: str) -> str:
    return text.lower().strip().replace("\n", " ")


def is_correct(prediction: str, answers: Sequence[str], dataset: str) -> bool:
    normalise = _without_spaces if dataset == MATH_DATASET else _folded
    predicted = normalise(prediction)
    return any(normalise(str(answer)) in predicted for answer in answers)


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    correct = is_correct(results[0], as_list(doc["answer"]), doc["dataset"])
    return {"ocrbench_accuracy": float(correct), "ocrbench_scores": {"question_type": doc["question_type"], "correct": correct}}


def scores(values: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Right answers per question type, per report category, and in total ("Final Score")."""
    per_type = dict.fromkeys(QUESTION_TYPES, 0)
    for value in values:
        per_type[value["question_type"]] = per_type.get(value["question_type"], 0) + int(value["correct"])
    categories = {name: sum(per_type[kind] for kind in kinds) for name, kinds in REPORT_CATEGORIES.items()}
    return {**per_type, **categories, "Final Score": sum(per_type.values())}
