"""TempCompass (multi-choice): temporal questions whose text holds its lettered options."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lmms_eval.tasks._common.video import yaml_cache_dir
from lmms_eval.tasks._common.video_mcq import cached_video

# dataset_kwargs.cache_dir of the YAML, read from it as lmms-eval task files do.
CACHE_DIR = yaml_cache_dir(Path(__file__).with_name("tempcompass_multi_choice.yaml")) or ""
VIDEO_FOLDER = "videos"
LETTERS = ("A", "B", "C", "D")


def doc_to_visual(doc: dict[str, Any]) -> list[str]:
    return [cached_video(f"{doc['video_id']}.mp4", CACHE_DIR, (VIDEO_FOLDER,))]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    return f"{kwargs.get('pre_prompt', '')}{doc['question']}{kwargs.get('post_prompt', '')}"


def rule_rating(reply: str, answer: str) -> int | None:
    """1 or 0 where TempCompass' rules decide; None where its official evaluator asks an
    LLM: the reply equals the answer, is a bare letter, or starts with "L." or "L)"."""
    if reply == answer:
        return 1
    gold = answer[:1]
    if reply in LETTERS:
        return int(reply == gold)
    for letter in LETTERS:
        if reply.startswith((f"{letter}.", f"{letter})")):
            return int(letter == gold)
    return None


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    rating = rule_rating(results[0] if results else "", doc["answer"])
    record = {"dim": doc["dim"], "rating": rating or 0, "undecided": rating is None}
    return {"avg_accuracy": record, "dim_accuracy": record, "undecided": record}


def average_accuracy(records: Sequence[dict[str, Any]]) -> float:
    """Percent of questions rated 1."""
    return 100 * sum(record["rating"] for record in records) / len(records) if records else 0.0


def accuracy_by_dim(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Percent rated 1 within each dimension (action, speed, direction, order, attribute_change)."""
    by_dim: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_dim.setdefault(record["dim"], []).append(record)
    return {dim: average_accuracy(group) for dim, group in sorted(by_dim.items())}


def undecided_share(records: Sequence[dict[str, Any]]) -> float:
    """Percent of replies no rule could read (the official evaluator's LLM would rate them;
    here they count as wrong)."""
    return 100 * sum(record["undecided"] for record in records) / len(records) if records else 0.0
