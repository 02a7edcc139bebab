"""Q-Bench A1 (dev): low-level visual perception questions, read with the MMMU multiple-
choice parser (lmms-eval's variant) and scored per question type and concern.

lmms-eval's tie-break for several candidate letters crashes (NameError on `np`); the
intended rule, the right-most candidate, is applied here. The random fallback is seeded
per question id.
"""

from __future__ import annotations

import random
from typing import Any

from lmms_eval.tasks._common.vqa import categorised, category_means, doc_to_visual
from lmms_eval.tasks._builtin.mmmu_pro.utils import parse_mmmu_choice

__all__ = ["doc_to_visual", "doc_to_text", "process_results", "category_means"]

QUESTION_TYPES = ("Yes-or-No", "How", "What")
CONCERNS = ("Global Distortion", "Global Others", "Local Distortion", "Local Others")
_UNUSED = "N/A"


def options(doc: dict[str, Any]) -> list[str]:
    found = (doc.get(f"option{number}") for number in range(4))
    return [str(option) for option in found if option is not None and option != _UNUSED]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    block = "\n".join(f"{chr(ord('A') + i)}. {option}" for i, option in enumerate(options(doc)))
    return f"{kwargs.get('pre_prompt') or ''}{doc['question']}\n{block}{kwargs.get('post_prompt') or ''}"


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    parsed = parse_mmmu_choice(str(results[0]), options(doc), random.Random(f"42:{doc['id']}"))
    correct = parsed == str(doc["correct_choice"]).strip()
    buckets = [QUESTION_TYPES[int(doc["question_type"])], CONCERNS[int(doc["question_concern"])]]
    return {"qbench_score": float(correct), "qbench_breakdown": categorised(correct, buckets)}
