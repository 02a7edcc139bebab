"""MLVU (dev, multiple choice): long videos; the mean of the task types' accuracies (M-Avg)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lmms_eval.tasks._common.video import yaml_cache_dir
from lmms_eval.tasks._common.video_mcq import cached_video
from lmms_eval.tasks._task_utils.mcq_extract import extract_mcq_answer

# dataset_kwargs.cache_dir of the YAML, read from it as lmms-eval task files do.
CACHE_DIR = yaml_cache_dir(Path(__file__).with_name("mlvu_dev.yaml")) or ""
LETTERS = ("A", "B", "C", "D")


def doc_to_visual(doc: dict[str, Any]) -> list[str]:
    return [cached_video(doc["video_name"], CACHE_DIR)]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    return f"{kwargs.get('pre_prompt', '')}{doc['question']}{kwargs.get('post_prompt', '')}"


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    predicted = extract_mcq_answer(results[0] if results else "", LETTERS)
    record = {"question_id": doc["question_id"], "task_type": doc["task_type"], "pred_answer": predicted, "answer": doc["answer"]}
    return {"mlvu_percetion_score": record, "mlvu_task_types": record}


def _accuracy_by_task_type(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    by_type: dict[str, list[bool]] = {}
    for record in records:
        by_type.setdefault(record["task_type"], []).append(record["pred_answer"] == record["answer"])
    return {task_type: 100 * sum(hits) / len(hits) for task_type, hits in sorted(by_type.items())}


def mean_over_task_types(records: Sequence[dict[str, Any]]) -> float:
    """M-Avg: the unweighted mean of the per-task-type accuracies (percent); task types
    with no question in the split do not count."""
    scores = _accuracy_by_task_type(records)
    return sum(scores.values()) / len(scores) if scores else 0.0


def accuracy_by_task_type(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    return _accuracy_by_task_type(records)
