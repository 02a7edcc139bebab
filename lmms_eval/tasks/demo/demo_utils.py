"""Prompt and scoring code of the `demo` tasks (scenes from `lmms_eval.demo.scenes`).

The prompt text is built by the same function that rendered the demo model's training
prompts, so the model is evaluated on exactly the format it learnt.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from lmms_eval.demo import scenes
from lmms_eval.tasks._common.yes_no import parse_mme_yes_no as parse_yes_no  # scored the MME way

BLANK_COLOUR = (255, 255, 255)


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    return [doc["image"].convert("RGB")]


def blank_visual(doc: dict[str, Any]) -> list[Any]:
    """A white image of the same size: the `demo_blank` tasks' control, where every
    score must fall to chance."""
    from PIL import Image

    return [Image.new("RGB", doc["image"].size, BLANK_COLOUR)]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    text = scenes.prompt(doc["format"], doc["question"], doc["options"] or ())
    return f"{kwargs.get('pre_prompt', '')}{text}{kwargs.get('post_prompt', '')}"


def choice_index(doc: dict[str, Any]) -> int:
    """The right option's index. (A target given as text that looks like a number, such
    as "3", would be read as an index, as lmms-eval reads multiple-choice targets.)"""
    return list(doc["options"]).index(doc["answer"])


def yesno_process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    score = float(parse_yes_no(results[0]) == doc["answer"])
    return {"acc": score, "acc_plus": {"image_id": doc["image_id"], "score": score}}


def acc_plus(records: Sequence[dict[str, Any]]) -> float:
    """MME's accuracy+: the share of images whose questions (a yes and a no) are all right."""
    by_image: dict[Any, list[float]] = defaultdict(list)
    for record in records:
        by_image[record["image_id"]].append(record["score"])
    return sum(all(score == 1.0 for score in scores) for scores in by_image.values()) / len(by_image)
