"""BLINK (val): 14 perception subtasks, scored as lmms-eval does.

The prompt is the authors' own `prompt` field after a note naming the letters; the reply's
first letter (after spaces and "(") is the answer. The official evaluation instead maps
replies to options with GPT-3.5 (not reproduced: see README.md).
"""

from __future__ import annotations

from typing import Any

from lmms_eval.tasks._common.letters import bracket_gold, choice_letters, leading_letter

__all__ = ["doc_to_visual", "doc_to_text", "process_results"]

MAX_IMAGES = 4


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    images = (doc.get(f"image_{number}") for number in range(1, MAX_IMAGES + 1))
    return [image.convert("RGB") for image in images if image is not None]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    letters = ", ".join(choice_letters(len(doc["choices"])))
    return f"Note: You only need to respond with {letters} without providing any additional information.\n{doc['prompt']}"


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    return {"blink_acc": float(leading_letter(str(results[0])) == bracket_gold(doc["answer"]))}
