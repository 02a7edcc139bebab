"""MME: yes/no questions in pairs (one "Yes" and one "No" question per image).

Scoring follows the official MME tool: a category's score is accuracy over its questions
plus "accuracy+" over its images (an image counts only when both of its questions are
right), both in percent, so each category is worth at most 200. Perception sums 10
categories (max 2000), cognition 4 (max 800). The image of a question is identified by
its `question_id` within its category.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from lmms_eval.tasks._common.prompts import first_image, question_with_instruction
from lmms_eval.tasks._common.yes_no import parse_mme_yes_no as parse_yes_no

logger = logging.getLogger(__name__)

PERCEPTION_CATEGORIES = (
    "existence",
    "count",
    "position",
    "color",
    "posters",
    "celebrity",
    "scene",
    "landmark",
    "artwork",
    "OCR",
)
COGNITION_CATEGORIES = ("commonsense_reasoning", "numerical_calculation", "text_translation", "code_reasoning")
ALL_CATEGORIES = PERCEPTION_CATEGORIES + COGNITION_CATEGORIES



doc_to_visual = first_image
doc_to_text = question_with_instruction


def side_of(category: str) -> str:
    if category in PERCEPTION_CATEGORIES:
        return "perception"
    if category in COGNITION_CATEGORIES:
        return "cognition"
    raise ValueError(f"unknown MME category {category!r}; expected one of {', '.join(ALL_CATEGORIES)}")


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    gold = doc["answer"].lower().strip().replace(".", "")
    if gold not in ("yes", "no"):
        raise ValueError(f"MME gold answer must be Yes or No, found {doc['answer']!r}")
    prediction = parse_yes_no(results[0])
    record = {
        "question_id": doc["question_id"],
        "category": doc["category"],
        "question": doc["question"],
        "prediction": prediction,
        "score": float(prediction == gold),
    }
    return {f"mme_{side_of(doc['category'])}_score": record, "mme_category_scores": record}


def category_scores(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Category -> 100 * question accuracy + 100 * image accuracy+ (in canonical order)."""
    images: dict[str, dict[Any, list[float]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        images[record["category"]][record["question_id"]].append(float(record["score"]))
    _warn_if_unpaired(records, images)
    scores = {}
    for category in sorted(images, key=_category_order):
        per_image = list(images[category].values())
        questions = [score for scores_of_image in per_image for score in scores_of_image]
        all_right = [all(score == 1.0 for score in scores_of_image) for scores_of_image in per_image]
        accuracy = 100.0 * sum(questions) / len(questions)
        accuracy_plus = 100.0 * sum(all_right) / len(per_image)
        scores[category] = accuracy + accuracy_plus
    return scores


def _category_order(category: str) -> tuple[int, str]:
    return (ALL_CATEGORIES.index(category) if category in ALL_CATEGORIES else len(ALL_CATEGORIES), category)


def _warn_if_unpaired(records: Sequence[dict[str, Any]], images: dict[str, dict[Any, list[float]]]) -> None:
    """The official tool requires two questions per image. A run that scores only part of
    the set (--limit) can split a pair; say so, since acc+ then means something else.
    Bootstrap resamples repeat records, so they are recognised and not warned about."""
    keys = {(record["category"], record["question_id"], record["question"]) for record in records}
    if len(keys) != len(records):
        return
    unpaired = frozenset(
        (category, question_id)
        for category, by_image in images.items()
        for question_id, scores in by_image.items()
        if len(scores) != 2
    )
    if unpaired and unpaired not in _reported:  # a resample without repeats is the same set again
        _reported.add(unpaired)
        logger.warning(
            "MME: %d image(s) do not have exactly 2 scored questions; acc+ is computed over what was scored", len(unpaired)
        )


_reported: set[frozenset[tuple[str, object]]] = set()


def total_score(records: Sequence[dict[str, Any]]) -> float:
    """Sum of the category scores (perception max 2000, cognition max 800)."""
    return float(sum(category_scores(records).values()))


def per_category(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    return category_scores(records)
