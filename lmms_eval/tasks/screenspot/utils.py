"""ScreenSpot REC: a GUI instruction, a box asked for; the paper's number is Center_ACC
(the click, the predicted box's centre, inside the target element's box).

lmms-eval's current rule (since 2026-06-23): the first box in square or round brackets;
if any value is above 1 the four are divided by 1000 (the 0-1000 grid of Qwen-style
models); no box is the empty box at 0.
"""

from __future__ import annotations

from typing import Any

from lmms_eval.tasks._common.boxes import NO_BOX, SQUARE_OR_ROUND_BOX, Box, box_scores, first_box

__all__ = ["doc_to_visual", "doc_to_text", "process_results", "parse_box"]

PROMPT = (
    "Bounding box coordinates are specified in the format (top-left x, top-left y, bottom-right x, bottom-right y). "
    "All values are floating point numbers bounded between 0 and 1 with two decimal places of precision (e.g., 0.15). "
    "Please provide the bounding box coordinates of the region that corresponds to the command: "
)
GRID = 1000.0


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    return [doc["image"].convert("RGB")]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    return PROMPT + doc["instruction"]


def parse_box(response: str) -> Box:
    box = first_box(response, SQUARE_OR_ROUND_BOX)
    if box != NO_BOX and max(box) > 1:
        return tuple(value / GRID for value in box)  # type: ignore[return-value]
    return box


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    return box_scores("screenspot", parse_box(str(results[0])), doc["bbox"])
