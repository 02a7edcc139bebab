"""LongVideoBench (validation, video input): up to five options on videos of 8 s to an hour,
`$HF_HOME/<cache_dir>/videos/<video_path>` (extracted from the repo's split tar parts)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lmms_eval.tasks._common.answer_prefixes import EIGHT_PREFIXES, first_letter, long_without_letter, without_prefixes
from lmms_eval.tasks._common.video import find_media
from lmms_eval.tasks._common.vqa import categorised, category_means

__all__ = ["doc_to_visual", "doc_to_text", "process_results", "extract_letter", "category_means", "options_of"]

TASK_YAML = Path(__file__).with_name("longvideobench_val_v.yaml")
UNUSED_OPTION = "N/A"
SEARCHED_LETTERS = "ABCDE"
OPTION_COLUMNS = tuple(f"option{i}" for i in range(5))


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    return [find_media(doc["video_path"], TASK_YAML, ["videos"])]


def options_of(doc: dict[str, Any]) -> list[str]:
    """The options in use: `option0`..`option4`, the unused ones being "N/A"."""
    return [str(doc[column]) for column in OPTION_COLUMNS if column in doc and str(doc[column]) != UNUSED_OPTION]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    options = "\n".join(f"{chr(ord('A') + i)}. {option}" for i, option in enumerate(options_of(doc)))
    return f"{kwargs.get('pre_prompt', '')}{doc['question']}\n{options}\n{kwargs.get('post_prompt', '')}"


def extract_letter(reply: str, option_count: int, seed: str) -> str:
    """lmms-eval's reading: the eight answer phrases deleted; a reply of more than ten words
    with no A-E, or with no A-E at all, gets a letter of an option in use drawn with `seed`;
    else the first A-E anywhere (even one past the options in use)."""
    text = without_prefixes(reply, EIGHT_PREFIXES)
    letter = None if long_without_letter(text, SEARCHED_LETTERS) else first_letter(text, SEARCHED_LETTERS)
    if letter is None:
        return random.Random(seed).choice(SEARCHED_LETTERS[: max(1, option_count)])
    return letter


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    predicted = extract_letter(str(results[0]) if results else "", len(options_of(doc)), seed=f"longvideobench:{doc['id']}")
    correct = float(predicted == chr(ord("A") + int(doc["correct_choice"])))
    buckets = [f"duration_group {doc['duration_group']}", f"question_category {doc['question_category']}"]
    return {"lvb_acc": correct, "lvb_breakdown": categorised(correct, buckets)}
