"""MuirBench: multi-image multiple choice, scored as lmms-eval does.

The `flexible-extract` filter keeps the letter of a reply that starts with "L." and the
whole reply otherwise; the reply is right when it then equals the gold letter, ignoring
case and surrounding spaces ("A", "a", "A. text" right; "(A)", "Answer: A" wrong).
"""

from __future__ import annotations

import re
from typing import Any

from lmms_eval.api.filter import ResponseMap
from lmms_eval.tasks._common.letters import choice_letters
from lmms_eval.tasks._common.vqa import categorised, category_means

__all__ = ["doc_to_visual", "doc_to_text", "FlexibleExtract", "process_results", "category_means"]

_LETTER_DOT = re.compile(r"^\s*([A-Z])\.")


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    return [image.convert("RGB") for image in doc["image_list"]]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    options = "\n".join(f"{letter}. {option}" for letter, option in zip(choice_letters(len(doc["options"])), doc["options"]))
    return f"{kwargs.get('pre_prompt') or ''}{doc['question']}\n{options}{kwargs.get('post_prompt') or ''}"


def flexible_extract(response: str) -> str:
    match = _LETTER_DOT.match(response)
    return match.group(1) if match else response


class FlexibleExtract(ResponseMap):
    """Filter step: the letter of an "L." reply, else the reply unchanged."""

    def map(self, response: Any, doc: dict[str, Any]) -> Any:
        return flexible_extract(str(response))


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    correct = str(results[0]).lower().strip() == str(doc["answer"]).lower().strip()
    return {"muirbench_score_overall": float(correct), "muirbench_by_task": categorised(correct, [doc["task"]])}
