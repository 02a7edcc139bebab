"""MMStar: 1,500 vision-indispensable multiple-choice questions (A-D), 6 core
capabilities x 3 sub-categories ("l2_category") each.

Answers are matched with the MMStar authors' rule (see `matches`). The headline
`average` is the unweighted mean of the per-L2-category accuracies; `micro_average` is
plain accuracy over all questions (what the MMStar paper and VLMEvalKit call overall).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from lmms_eval.tasks._common.prompts import first_image, question_with_instruction

# Core capability -> its L2 categories, in the paper's order (used only to order reports).
CATEGORIES = {
    "coarse perception": ("image scene and topic", "image style & quality", "image emotion"),
    "fine-grained perception": ("object counting", "recognition", "localization"),
    "instance reasoning": ("single-instance reasoning", "cross-instance attribute reasoning", "cross-instance relation reasoning"),
    "logical reasoning": ("code & sequence reasoning", "diagram reasoning", "common reasoning"),
    "science & technology": (
        "biology & chemistry & physics",
        "electronics & energy & mechanical eng.",
        "geography & earth science & agriculture",
    ),
    "math": ("geometry", "numeric commonsense and calculation", "statistical reasoning"),
}
L2_ORDER = tuple(l2 for l2s in CATEGORIES.values() for l2 in l2s)



doc_to_visual = first_image
doc_to_text = question_with_instruction


def matches(response: str, answer: str) -> bool:
    """The MMStar rule. After lower-casing, stripping and turning newlines into spaces, the
    answer letter must be the response's first character, or follow a leading "(", or
    follow a leading "option ", or follow a leading "the answer is ". Nothing else is
    searched: "Answer: B" is wrong, and a response starting with the article "a" reads
    as option A."""
    gold = answer.lower().strip().replace("\n", " ")
    text = response.lower().strip().replace("\n", " ")
    if not text:
        return False
    if text[0] == gold:
        return True
    for prefix in ("(", "option ", "the answer is "):
        if text.startswith(prefix) and text[len(prefix) : len(prefix) + 1] == gold:
            return True
    return False


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    correct = float(matches(results[0], doc["answer"]))
    record = {"category": doc["category"], "l2_category": doc["l2_category"], "score": correct}
    return {"average": record, "micro_average": correct, "core_categories": record, "l2_categories": record}


def _ordered(names: Sequence[str], order: Sequence[str]) -> list[str]:
    return sorted(names, key=lambda name: (order.index(name) if name in order else len(order), name))


def l2_accuracies(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    """L2 category -> accuracy over its questions."""
    scores: dict[str, list[float]] = defaultdict(list)
    for record in records:
        scores[record["l2_category"]].append(float(record["score"]))
    return {l2: sum(scores[l2]) / len(scores[l2]) for l2 in _ordered(list(scores), L2_ORDER)}


def macro_average(records: Sequence[dict[str, Any]]) -> float:
    """Unweighted mean of the L2-category accuracies (lmms-eval's "average")."""
    accuracies = l2_accuracies(records)
    return sum(accuracies.values()) / len(accuracies)


def core_scores(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Core capability -> unweighted mean of its L2 categories' accuracies."""
    by_core: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_core[record["category"]].append(record)
    return {core: macro_average(by_core[core]) for core in _ordered(list(by_core), tuple(CATEGORIES))}
