"""Perception Test (validation, multiple choice): three options, the first standalone letter."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lmms_eval.tasks._common.video import yaml_cache_dir
from lmms_eval.tasks._common.video_mcq import cached_video

# dataset_kwargs.cache_dir of the YAML, read from it as lmms-eval task files do.
CACHE_DIR = yaml_cache_dir(Path(__file__).with_name("perceptiontest_val_mc.yaml")) or ""
VIDEO_FOLDER = "videos"
# Upper case only, anywhere: "A person ..." reads as A (kept: it is the rule that scores).
_FIRST_LETTER = re.compile(r"\b([A-D])\b")
INSTRUCTION = "\nAnswer with the option's letter from the given choices directly."


def doc_to_visual(doc: dict[str, Any]) -> list[str]:
    return [cached_video(f"{doc['video_name']}.mp4", CACHE_DIR, (VIDEO_FOLDER,))]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    # lmms-eval labels the options A, B, C (a fourth would be another C; there are three).
    labels = [f"{'ABC'[min(i, 2)]}. {option}" for i, option in enumerate(doc["options"])]
    post_prompt = INSTRUCTION if labels else kwargs.get("post_prompt", "")
    return "\n".join([f"{kwargs.get('pre_prompt', '')}{doc['question']}", *labels]) + post_prompt


def parse_index(reply: str) -> int:
    """A0, B1, C2, D3 for the first standalone capital A-D; -1 when there is none."""
    match = _FIRST_LETTER.search(reply.strip())
    return "ABCD".index(match.group(1)) if match else -1


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    correct = parse_index(results[0] if results else "") == int(doc["answer_id"])
    return {"accuracy": float(correct)}

