"""CV-Bench: 2D (count, relation) and 3D (depth, distance) questions.

Replies are read as lmms-eval reads them (the first letter after spaces and "("). The
headline `cv_bench_overall` is the official CV-Bench formula, which lmms-eval has in its
code but does not report: the mean of the 2D score (itself the mean of the ADE20K and COCO
accuracies) and the 3D (Omni3D) accuracy. `cv_bench_acc` is lmms-eval's plain accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lmms_eval.tasks._common.letters import bracket_gold, choice_letters, leading_letter
from lmms_eval.tasks._common.vqa import doc_to_visual

__all__ = ["doc_to_visual", "doc_to_text", "process_results", "official_overall"]

SOURCES_2D = ("ADE20K", "COCO")
SOURCE_3D = "Omni3D"


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    letters = ", ".join(choice_letters(len(doc["choices"])))
    return f"Note: You only need to respond with {letters} without providing any additional information.\n\n{doc['prompt']}"


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    correct = leading_letter(str(results[0])) == bracket_gold(doc["answer"])
    return {"cv_bench_overall": {"source": doc["source"], "correct": correct}, "cv_bench_acc": float(correct)}


def _accuracy(values: Sequence[dict[str, Any]], source: str) -> float | None:
    scores = [value["correct"] for value in values if value["source"] == source]
    return sum(scores) / len(scores) if scores else None


def official_overall(values: Sequence[dict[str, Any]]) -> float:
    """½·[(acc ADE20K + acc COCO)/2 + acc Omni3D]; a source with no questions (a slice)
    is left out of its mean rather than counted as zero."""
    scores_2d = [score for score in (_accuracy(values, source) for source in SOURCES_2D) if score is not None]
    parts = [sum(scores_2d) / len(scores_2d)] if scores_2d else []
    score_3d = _accuracy(values, SOURCE_3D)
    if score_3d is not None:
        parts.append(score_3d)
    return sum(parts) / len(parts) if parts else 0.0
