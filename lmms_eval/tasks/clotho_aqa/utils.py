"""Clotho-AQA: a question about a sound clip, answered in one word; exact match."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lmms_eval.metrics.sample import exact_match

INSTRUCTION = "\nAnswer the question using a single word only. "  # the trailing space is lmms-eval's


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    return [doc["audio"]]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    return f"{kwargs.get('pre_prompt', '')}{doc['question']}{INSTRUCTION}{kwargs.get('post_prompt', '')}"


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, float]:
    reply = (results[0] if results else "").strip()
    return {"exact_match": exact_match(reply, [doc["answer"]], ignore_case=True, ignore_punctuation=True)}
