"""Box grounding scores shared by RefCOCO and ScreenSpot (normalised [x1, y1, x2, y2] boxes)."""

from __future__ import annotations

import re
from collections.abc import Sequence

Box = tuple[float, float, float, float]
NO_BOX: Box = (0.0, 0.0, 0.0, 0.0)
THRESHOLDS = (0.1, 0.3, 0.5, 0.7, 0.9)

_NUMBER = r"\s*(-?\d+(?:\.\d+)?)\s*"
SQUARE_BOX = re.compile(r"\[" + ",".join([_NUMBER] * 4) + r"\]")
SQUARE_OR_ROUND_BOX = re.compile(r"[\[\(]" + ",".join([_NUMBER] * 4) + r"[\]\)]")


def first_box(response: str, pattern: re.Pattern[str]) -> Box:
    """The first four-number box the pattern finds; none found: the empty box at 0."""
    match = pattern.search(response)
    return tuple(float(value) for value in match.groups()) if match else NO_BOX  # type: ignore[return-value]


def iou(predicted: Box, gold: Box) -> float:
    """Intersection over union. The intersection is clamped at 0, the areas are not (as
    lmms-eval); a zero union (two empty boxes at one point) scores 0 instead of crashing."""
    width = max(0.0, min(predicted[2], gold[2]) - max(predicted[0], gold[0]))
    height = max(0.0, min(predicted[3], gold[3]) - max(predicted[1], gold[1]))
    inter = width * height
    union = (gold[2] - gold[0]) * (gold[3] - gold[1]) + (predicted[2] - predicted[0]) * (predicted[3] - predicted[1]) - inter
    return inter / union if union else 0.0


def centre_inside(predicted: Box, gold: Box) -> bool:
    """Whether the predicted box's centre (the "click") falls inside the gold box."""
    x, y = (predicted[0] + predicted[2]) / 2, (predicted[1] + predicted[3]) / 2
    return gold[0] <= x <= gold[2] and gold[1] <= y <= gold[3]


def box_scores(prefix: str, predicted: Box, gold: Sequence[float]) -> dict[str, float]:
    """`<prefix>_IoU`, `<prefix>_ACC@t` for each threshold, `<prefix>_Center_ACC`."""
    target: Box = tuple(float(value) for value in gold)  # type: ignore[assignment]
    overlap = iou(predicted, target)
    scores = {f"{prefix}_IoU": overlap}
    scores |= {f"{prefix}_ACC@{threshold}": float(overlap >= threshold) for threshold in THRESHOLDS}
    scores[f"{prefix}_Center_ACC"] = float(centre_inside(predicted, target))
    return scores


def metric_names(prefix: str) -> list[str]:
    return [f"{prefix}_IoU", *(f"{prefix}_ACC@{threshold}" for threshold in THRESHOLDS), f"{prefix}_Center_ACC"]
