"""GQA (testdev balanced): short answers about scene graphs of Visual Genome images.

The questions (config `testdev_balanced_instructions`) carry no image; the images are a
second table (config `testdev_balanced_images`: `id`, `image`), joined on
`imageId == id`. `doc_to_visual` uses the doc's own `image` when it has one (a local copy
that was joined beforehand), and otherwise looks the image up in that table, loaded once
and decoded one image at a time.

Scoring is exact match after lower-casing and deleting ASCII punctuation, nothing else
("Yes." matches "yes"; "the table" does not match "table"). Besides the overall accuracy,
the accuracy per structural type (verify, query, choose, logical, compare) and per
semantic type (attr, cat, global, obj, rel), as the official GQA script breaks it down.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from lmms_eval.metrics.sample import exact_match
from lmms_eval.tasks._common.vqa import categorised, category_means, question_prompt

__all__ = ["doc_to_visual", "doc_to_text", "process_results", "category_means"]

IMAGE_TABLE = ("lmms-lab-encoder/GQA", "testdev_balanced_images", "testdev")  # path, config, split
TYPE_KINDS = ("structural", "semantic")


class ImageTable:
    """GQA images by id; an image is decoded only when asked for."""

    def __init__(self, dataset: Any):
        self.dataset = dataset
        self.row_of = {str(image_id): row for row, image_id in enumerate(dataset["id"])}

    def image(self, image_id: Any) -> Any:
        row = self.row_of.get(str(image_id))
        if row is None:
            raise ValueError(f"image {image_id!r} is not in the GQA image table ({len(self.row_of)} images)")
        return self.dataset[row]["image"]


@cache
def hub_images() -> ImageTable:
    import datasets

    path, config, split = IMAGE_TABLE
    return ImageTable(datasets.load_dataset(path, config, split=split))


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    image = doc.get("image")
    if image is None:
        image = hub_images().image(doc["imageId"])
    return [image.convert("RGB")]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    return question_prompt(doc["question"], lmms_eval_specific_kwargs)


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    correct = exact_match(results[0], [doc["answer"]], ignore_case=True, ignore_punctuation=True)
    types = doc.get("types") or {}
    categories = [f"{kind}/{types[kind]}" for kind in TYPE_KINDS if types.get(kind)]
    return {"exact_match": correct, "exact_match_by_type": categorised(correct, categories)}
