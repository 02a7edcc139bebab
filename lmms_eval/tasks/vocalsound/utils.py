"""VocalSound: name the human vocal sound; the first class named in the reply counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

PROMPT = "Classify the human vocal sound to VocalSound in English: "
# Searched in this order, as lower-case substrings of the reply; "throat" stands for
# "Throat clearing".
CLASSES = {"laughter": "Laughter", "sniff": "Sniff", "throat": "Throat clearing", "cough": "Cough", "sigh": "Sigh", "sneeze": "Sneeze"}
AGE_GROUPS = {1: "18-25", 2: "26-48", 3: "49-80"}


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    return [doc["audio"]]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    return f"{kwargs.get('pre_prompt', '')}{PROMPT}{kwargs.get('post_prompt', '')}"


def parse_class(reply: str) -> str | None:
    """The first class (in CLASSES' order) whose name appears in the reply; None if none."""
    lowered = reply.lower()
    return next((name for key, name in CLASSES.items() if key in lowered), None)


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    parsed = parse_class(results[0] if results else "")
    correct = float(parsed is not None and parsed.lower() == doc["answer"].strip().lower())
    record = {"correct": correct, "gender": "female" if doc["spk_id"].startswith("f") else "male", "age_group": AGE_GROUPS.get(doc["age_group"], str(doc["age_group"]))}
    return {"accuracy": correct, "by_group": record}


def group_accuracies(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Accuracy per gender and per age group (lmms-eval logs these beside the total)."""
    groups: dict[str, list[float]] = {}
    for record in records:
        for key in (record["gender"], f"age {record['age_group']}"):
            groups.setdefault(key, []).append(record["correct"])
    return {key: sum(values) / len(values) for key, values in sorted(groups.items())}
