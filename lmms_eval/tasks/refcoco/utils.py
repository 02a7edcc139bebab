"""RefCOCO referring-expression comprehension (bbox): one question per expression, a box
in normalised [x1, y1, x2, y2] asked for, scored by IoU (ACC@0.5 is the literature's number).

lmms-eval's rule: the reply's first box in **square brackets with commas**; no such box is
the empty box at 0; pixel replies are not rescaled (they score IoU 0).
"""

from __future__ import annotations

from typing import Any

from lmms_eval.tasks._common.boxes import SQUARE_BOX, box_scores, first_box

__all__ = ["explode_expressions", "doc_to_visual", "doc_to_text", "process_results"]

PROMPT = (
    "Bounding box coordinates are specified in the format (top-left x, top-left y, bottom-right x, bottom-right y). "
    "All values are floating point numbers bounded between 0 and 1. "
    "Please provide the bounding box coordinate of the region this sentence describes: "
)


def normalised_box(bbox: list[float], width: int, height: int) -> list[float]:
    """COCO pixels [x, y, w, h] -> [x1, y1, x2, y2] as fractions of the image."""
    x, y, w, h = bbox
    return [x / width, y / height, (x + w) / width, (y + h) / height]


def _explode(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {key: [] for key in (*batch, "expression", "image_width", "image_height", "box")}
    for row in range(len(batch["question_id"])):
        width, height = batch["image"][row].size
        for expression in batch["answer"][row]:
            for key in batch:
                out[key].append(batch[key][row])
            out["expression"].append(expression)
            out["image_width"].append(width)
            out["image_height"].append(height)
            out["box"].append(normalised_box(batch["bbox"][row], width, height))
    return out


def explode_expressions(dataset: Any) -> Any:
    """process_docs: one doc per referring expression, with the gold box normalised."""
    return dataset.map(_explode, batched=True, batch_size=64)


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    return [doc["image"].convert("RGB")]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    return PROMPT + doc["expression"]


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    return box_scores("refcoco", first_box(str(results[0]), SQUARE_BOX), doc["box"])
