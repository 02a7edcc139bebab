"""AIR-Bench Foundation: single-choice questions about speech, sound and music clips.

Parsing follows lmms-eval's rule (shared/benchmarks.md §56), not the official scorer's.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

LETTERS = ("A", "B", "C", "D")
INSTRUCTION = "\nAnswer with the option's letter from the given choices directly."
_EDGE_CHARACTERS = (",", ".", "!", "?", ";", ":", "'")
FALLBACK_SEED = 42


def _choices(doc: dict[str, Any]) -> list[str | None]:
    return [doc.get(f"choice_{letter.lower()}") for letter in LETTERS]


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    return [doc["audio"]]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    """Question and the four options; a missing option is printed as "None", as in lmms-eval."""
    kwargs = lmms_eval_specific_kwargs or {}
    options = "".join(f"{letter}. {choice}\n" for letter, choice in zip(LETTERS, _choices(doc)))
    post_prompt = kwargs.get("post_prompt", INSTRUCTION)
    return f"{kwargs.get('pre_prompt', '')}{doc['question']}\n{options}{post_prompt}"


def parse_letter(response: str, letters: Sequence[str], rng: random.Random) -> str:
    """"(L)", else " L ", else "L."; none: a random letter among `letters`; several: the one
    whose " L " occurs right-most (the first candidate when none occurs spaced)."""
    text = response
    for character in _EDGE_CHARACTERS:
        text = text.strip(character)
    padded = f" {text} "
    for pattern in ("({})", " {} ", "{}."):
        candidates = [letter for letter in letters if pattern.format(letter) in padded]
        if candidates:
            break
    if not candidates:
        return rng.choice(list(letters))
    positions = [padded.rfind(f" {letter} ") for letter in candidates]
    return candidates[max(range(len(candidates)), key=lambda i: (positions[i], -i))]


def gold_letter(doc: dict[str, Any]) -> str:
    for letter, choice in zip(LETTERS, _choices(doc)):
        if choice is not None and choice == doc["answer_gt"]:
            return letter
    raise ValueError(f"AIR-Bench doc {doc.get('uniq_id')}: answer_gt {doc['answer_gt']!r} is none of its choices")


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    letters = [letter for letter, choice in zip(LETTERS, _choices(doc)) if choice]
    rng = random.Random(f"{FALLBACK_SEED}:{doc.get('uniq_id', '')}")  # same fallback whatever runs beside it
    correct = float(parse_letter(results[0] if results else "", letters, rng) == gold_letter(doc))
    return {"accuracy": correct, "by_task": {"task_name": doc["task_name"], "correct": correct}}


def task_accuracies(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Accuracy per AIR-Bench task (`task_name`), logged beside the micro accuracy."""
    by_task: dict[str, list[float]] = defaultdict(list)
    for record in records:
        by_task[record["task_name"]].append(record["correct"])
    return {name: sum(values) / len(values) for name, values in sorted(by_task.items())}
