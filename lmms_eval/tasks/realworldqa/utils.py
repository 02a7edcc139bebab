"""RealWorldQA: 765 real-world photos with a question that already carries its options
and an answer instruction. Most golds are option letters (A-D); the rest are a word or
a number.

xAI published no scoring script. This task scores as current lmms-eval does (since its
2026-04 PR #1274): a letter gold is compared with the letter read by the shared
priority-based extractor; any other gold with the response lower-cased, stripped and
without trailing periods.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from lmms_eval.tasks._common.choices import extract_choice_letter

LETTERS = ("A", "B", "C", "D")
# Removed from the question when a post_prompt brings its own instruction.
LETTER_INSTRUCTION = "Please answer directly with only the letter of the correct option and nothing else."


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    return [doc["image"].convert("RGB")]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    question = doc["question"].strip()
    post_prompt = kwargs.get("post_prompt") or ""
    if post_prompt:
        question = question.replace(LETTER_INSTRUCTION, "")
    return f"{kwargs.get('pre_prompt') or ''}{question}{post_prompt}"


def answer_type(answer: str) -> str:
    return "letter" if answer.strip() in LETTERS else "other"


def is_correct(response: str, answer: str) -> bool:
    gold = answer.strip()
    if answer_type(gold) == "letter":
        return extract_choice_letter(response, LETTERS) == gold
    return response.lower().strip().rstrip(".") == gold.lower()


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    correct = float(is_correct(results[0], doc["answer"]))
    return {"exact_match": correct, "answer_types": {"type": answer_type(doc["answer"]), "score": correct}}


def accuracy_by_answer_type(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    """"letter" (multiple choice) and "other" (a word or number) accuracies."""
    scores: dict[str, list[float]] = defaultdict(list)
    for record in records:
        scores[record["type"]].append(float(record["score"]))
    return {kind: sum(scores[kind]) / len(scores[kind]) for kind in ("letter", "other") if scores[kind]}
