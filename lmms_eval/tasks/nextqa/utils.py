"""NExT-QA (multiple choice): five options, lmms-eval's MMMU-style letter reader."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lmms_eval.tasks._common.video import yaml_cache_dir
from lmms_eval.tasks._common.video_mcq import OPTION_LETTERS, cached_video, lettered
from lmms_eval.tasks._task_utils.mmmu_mcq_utils import parse_mmmu_multi_choice_response

# dataset_kwargs.cache_dir of the YAML, read from it as lmms-eval task files do.
CACHE_DIR = yaml_cache_dir(Path(__file__).with_name("nextqa_mc_test.yaml")) or ""
VIDEO_FOLDER = "NExTVideo"
OPTION_FIELDS = ("a0", "a1", "a2", "a3", "a4")


def doc_to_visual(doc: dict[str, Any]) -> list[str]:
    # `video` is the clip's id; the file is <id>.mp4 (any case of the extension).
    return [cached_video(str(doc["video"]), CACHE_DIR, (VIDEO_FOLDER,))]


def options(doc: dict[str, Any]) -> list[str]:
    return [str(doc[field]).strip() for field in OPTION_FIELDS]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    body = "\n".join([doc["question"].strip(), *lettered(options(doc), "{letter}. {option}")])
    return f"{kwargs.get('pre_prompt', '')}{body}{kwargs.get('post_prompt', '')}"


def parse_letter(reply: str, doc: dict[str, Any]) -> str:
    """lmms-eval's MMMU-style tiers; the no-match guess is seeded by the question (lmms-eval's
    is unseeded), so a rerun scores the same."""
    letters = list(OPTION_LETTERS[: len(OPTION_FIELDS)])
    rng = random.Random(f"nextqa:{doc.get('qid')}:{doc['video']}")
    return parse_mmmu_multi_choice_response(reply, letters, dict(zip(letters, options(doc))), rng=rng)


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    parsed = parse_letter(results[0] if results else "", doc)
    return {"exact_match": float(parsed == OPTION_LETTERS[int(doc["answer"])])}
