"""POPE: "Is there a <object> in the image?" over three negative-sampling settings.

Answers are read the way the official POPE / LLaVA evaluation reads them: only the text
before the first ".", with commas deleted, split on spaces; the answer is "no" when one
of the words is exactly "No", "no" or "not" (case-sensitive), and "yes" otherwise. So
every response is a yes or a no, and "yes" is the positive class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

NEGATIVE_WORDS = ("No", "not", "no")


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    return [doc["image"].convert("RGB")]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    return f"{kwargs.get('pre_prompt') or ''}{doc['question'].strip()}{kwargs.get('post_prompt') or ''}"


def parse_yes_no(text: str) -> str:
    first_sentence = text.split(".")[0]
    words = first_sentence.replace(",", "").split(" ")
    return "no" if any(word in NEGATIVE_WORDS for word in words) else "yes"


def gold_label(answer: str) -> str:
    """The official script treats a label of "no" as negative and anything else as positive."""
    return "no" if answer.strip().lower() == "no" else "yes"


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    prediction = parse_yes_no(results[0])
    gold = gold_label(doc["answer"])
    outcome = {"gold": gold, "prediction": prediction}
    return {
        "pope_accuracy": float(prediction == gold),
        "pope_precision": outcome,
        "pope_recall": outcome,
        "pope_f1_score": outcome,
        "pope_yes_ratio": float(prediction == "yes"),
    }


def _counts(outcomes: Sequence[dict[str, str]]) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives); "yes" is positive."""
    true_positive = sum(o["gold"] == "yes" and o["prediction"] == "yes" for o in outcomes)
    false_positive = sum(o["gold"] == "no" and o["prediction"] == "yes" for o in outcomes)
    false_negative = sum(o["gold"] == "yes" and o["prediction"] == "no" for o in outcomes)
    return true_positive, false_positive, false_negative


def _ratio(numerator: int, denominator: int) -> float:
    # The official script divides by zero here; 0.0 is the usual convention (sklearn's too).
    return numerator / denominator if denominator else 0.0


def precision(outcomes: Sequence[dict[str, str]]) -> float:
    true_positive, false_positive, _ = _counts(outcomes)
    return _ratio(true_positive, true_positive + false_positive)


def recall(outcomes: Sequence[dict[str, str]]) -> float:
    true_positive, _, false_negative = _counts(outcomes)
    return _ratio(true_positive, true_positive + false_negative)


def f1_score(outcomes: Sequence[dict[str, str]]) -> float:
    p, r = precision(outcomes), recall(outcomes)
    return 2 * p * r / (p + r) if p + r else 0.0
