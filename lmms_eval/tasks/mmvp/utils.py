"""MMVP: 150 pairs of images that CLIP sees as alike, two-way questions.

Replies are read with lmms-eval's rules (the paper grades with GPT-4). The headline is
the paper's pair accuracy (both questions of a pair right; rows 2k and 2k+1, i.e. Index
2k+1 and 2k+2, form pair k); per-question accuracy is also reported.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from lmms_eval.tasks._common.vqa import doc_to_visual

__all__ = ["doc_to_visual", "doc_to_text", "process_results", "pair_accuracy", "parse_letter"]

_OPTION = re.compile(r"\([a-z]\)\s*([^(]+?)(?=\s*\([a-z]\)|$)")
# Tried in order, case-insensitive; the last lets the article "a" count as A (as lmms-eval).
_PATTERNS = [
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"^\s*\(?([AB])\)?\.?\s*$",
        r"^\s*\(?([AB])\)?[\.\s]",
        r"answer\s+is\s+\(?([AB])\)?",
        r"option\s+\(?([AB])\)?",
        r"\(?([AB])\)?(?:\s|$)",
    )
]


def options(doc: dict[str, Any]) -> list[str]:
    """"(a) Open (b) Closed" -> ["Open", "Closed"]."""
    return [text.strip() for text in _OPTION.findall(doc["Options"])]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    block = "\n".join(f"{letter}. {text}" for letter, text in zip("AB", options(doc)))
    return f"{kwargs.get('pre_prompt') or ''}{doc['Question']}\n{block}{kwargs.get('post_prompt') or ''}"


def parse_letter(response: str) -> str:
    text = response.strip()
    for pattern in _PATTERNS:
        match = pattern.search(text)
        if match:
            return match.group(1).upper()
    return text[:1].upper() if text[:1].upper() in ("A", "B") else ""


def gold_letter(doc: dict[str, Any]) -> str:
    return doc["Correct Answer"].strip().strip("()").upper()


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    correct = parse_letter(str(results[0])) == gold_letter(doc)
    return {"mmvp_pair_accuracy": {"index": int(doc["Index"]), "correct": correct}, "mmvp_accuracy": float(correct)}


def pair_accuracy(values: Sequence[dict[str, Any]]) -> float:
    """Share of pairs ((Index - 1) // 2) whose questions are all right."""
    pairs: dict[int, list[bool]] = defaultdict(list)
    for value in values:
        pairs[(value["index"] - 1) // 2].append(bool(value["correct"]))
    return sum(all(answers) for answers in pairs.values()) / len(pairs) if pairs else 0.0
