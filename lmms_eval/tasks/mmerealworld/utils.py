"""MME-RealWorld (lite): high-resolution real-world multiple choice (A-E), read and scored
as lmms-eval does (its Video-MME-style letter extraction)."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

from lmms_eval.tasks._common.vqa import categorised, category_means

__all__ = ["doc_to_visual", "doc_to_text", "process_results", "extract_letter", "category_means"]

INSTRUCTION = (
    "Select the best answer to the above multiple-choice question based on the image. "
    "Respond with only the letter (A, B, C, D, or E) of the correct option.\nThe best answer is: "
)
_PREFIXES = ("The best answer is", "The correct answer is", "The answer is", "The answer", "The best option is", "The correct option is", "Best answer:", "Best option:")
_LETTER = re.compile(r"[ABCDE]")
LETTERS = "ABCDE"
MAX_WORDS_WITHOUT_LETTER = 10


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    """The image is a base64 string in `bytes`."""
    from PIL import Image

    return [Image.open(io.BytesIO(base64.b64decode(doc["bytes"]))).convert("RGB")]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    """Fixed, as in lmms-eval (its prompt kwargs are not used)."""
    options = "\n".join(doc["multi-choice options"])
    return f"{doc['question']} The choices are listed below:\n{options}\n{INSTRUCTION}"


def extract_letter(response: str) -> str:
    """Answer phrases removed; a long reply without a capital A-E reads nothing; else the
    first capital A-E anywhere ("Based on..." reads B); else the choice "(A)".."(E)" that
    contains the reply, lower-cased (so an empty reply reads A, as in lmms-eval)."""
    text = response.strip()
    for prefix in _PREFIXES:
        text = text.replace(prefix, "")
    if len(text.split()) > MAX_WORDS_WITHOUT_LETTER and not _LETTER.search(text):
        return ""
    match = _LETTER.search(text)
    if match:
        return match.group(0)
    for letter in LETTERS:
        if text.lower() in f"({letter})".lower():
            return letter
    return ""


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    predicted, gold = extract_letter(str(results[0])).lower(), str(doc["answer"]).lower()
    correct = predicted == gold or gold in predicted
    category = str(doc["category"])
    buckets = [category.split("/")[0], category, str(doc["l2-category"])]
    return {"mme_realworld_score": float(correct), "mme_realworld_breakdown": categorised(correct, buckets)}
