"""Flickr30k (test): five reference captions per image, COCO caption metrics.

Prompt, records and corpus-level scores are those of `coco_cap` (pycocoevalcap: PTB
tokenizer, BLEU-1..4, METEOR, ROUGE-L, CIDEr over the evaluated images); only the
dataset's image id and reference-caption fields differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lmms_eval.tasks._builtin.coco_cap.utils import METRICS, doc_to_text, doc_to_visual, warn_if_scorer_missing

# The metrics' aggregations are named in coco_cap's metrics YAML, so they resolve to coco_cap/utils.py.
__all__ = ["doc_to_visual", "doc_to_text", "doc_to_target", "process_results", "warn_if_scorer_missing"]


def doc_to_target(doc: dict[str, Any]) -> list[str]:
    return [str(caption) for caption in doc["caption"]]


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, dict[str, Any]]:
    image_id = int(doc["img_id"])
    references = doc_to_target(doc)
    if not references:
        raise ValueError(f"image {image_id} has no reference captions")
    record = {"image_id": image_id, "prediction": results[0] if results else "", "references": references}
    return {metric: record for metric in METRICS}
