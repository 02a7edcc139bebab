"""SEED-Bench (v1): four-option questions over 9 spatial (image) and 3 temporal (video)
evaluation dimensions.

A response is right when its first character (after stripping) is the gold letter, in
either case: "B", "b" and "B. a cat" are right; "(B)" and "The answer is B" are wrong.

Media: a row's `image` list is passed whole (one picture for image rows, the extracted
frames for video rows, as lmms-eval does). A video row without frames (a copy of the
dataset that keeps the original clips) gets its clip, named by `data_id`, from the task's
`cache_dir`; the backend then samples it per the media spec (`max_frames_num`, `fps`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lmms_eval.tasks._common.video import find_media

TASK_YAML = Path(__file__).with_name("seedbench.yaml")

# question_type_id -> evaluation dimension (1-9 image, 10-12 video).
DIMENSIONS = {
    1: "Scene Understanding",
    2: "Instance Identity",
    3: "Instance Attributes",
    4: "Instance Location",
    5: "Instances Counting",
    6: "Spatial Relation",
    7: "Instance Interaction",
    8: "Visual Reasoning",
    9: "Text Understanding",
    10: "Action Recognition",
    11: "Action Prediction",
    12: "Procedure Understanding",
}


def _rows_of_type(dataset: Any, wanted: str) -> Any:
    """The rows whose data_type is `wanted` (reads only that column, so no image is decoded)."""
    if hasattr(dataset, "filter") and hasattr(dataset, "column_names"):
        return dataset.filter(lambda data_type: data_type == wanted, input_columns="data_type")
    return [doc for doc in dataset if doc["data_type"] == wanted]


def image_questions(dataset: Any) -> Any:
    return _rows_of_type(dataset, "image")


def video_questions(dataset: Any) -> Any:
    return _rows_of_type(dataset, "video")


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    frames = doc.get("image") or []
    if frames or doc["data_type"] != "video":
        return [image.convert("RGB") for image in frames]
    return [find_media(doc["data_id"], TASK_YAML, ["videos"])]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    options = "\n".join(f"{letter}. {doc['choice_' + letter.lower()]}" for letter in "ABCD")
    return f"{kwargs.get('pre_prompt') or ''}{doc['question']}\n{options}{kwargs.get('post_prompt') or ''}"


def first_character(response: str) -> str:
    prediction = response.strip()
    return prediction[0] if len(prediction) > 1 else prediction


def is_correct(response: str, answer: str) -> bool:
    return first_character(response).lower() == answer.strip().lower()


def dimension_name(question_type_id: Any) -> str:
    try:
        return DIMENSIONS.get(int(question_type_id), str(question_type_id))
    except (TypeError, ValueError):
        return str(question_type_id)


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    correct = float(is_correct(results[0], doc["answer"]))
    return {
        f"seed_{doc['data_type']}": correct,  # seed_image or seed_video
        # Every evaluated row, image or video (equals seed_image when no video row is run).
        "seed_all": correct,
        "seed_dimensions": {"dimension": dimension_name(doc["question_type_id"]), "score": correct},
    }


def accuracy_by_dimension(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    scores: dict[str, list[float]] = defaultdict(list)
    for record in records:
        scores[record["dimension"]].append(float(record["score"]))
    order = list(DIMENSIONS.values())
    names = sorted(scores, key=lambda name: (order.index(name) if name in order else len(order), name))
    return {name: sum(scores[name]) / len(scores[name]) for name in names}
