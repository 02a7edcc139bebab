"""ScienceQA-IMG: prompt, and the LLaVA-style letter match that lmms-eval uses."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any


def option_letter(index: int) -> str:
    return chr(ord("A") + int(index))


def sqa_doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    image = doc.get("image")
    return [] if image is None else [image.convert("RGB")]


def sqa_doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    """`Context: <hint>\\n` (only for a non-empty hint), the question, the lettered choices,
    then post_prompt (which starts with a newline)."""
    kwargs = lmms_eval_specific_kwargs or {}
    hint = doc.get("hint") or ""
    context = f"Context: {hint}\n" if hint else ""
    choices = "\n".join(f"{option_letter(i)}. {choice}" for i, choice in enumerate(doc["choices"]))
    return f"{kwargs.get('pre_prompt', '') or ''}{context}{doc['question']}\n{choices}{kwargs.get('post_prompt', '') or ''}"


def sqa_doc_to_target(doc: dict[str, Any]) -> str:
    """The gold letter: `answer` is the index of the right choice."""
    return option_letter(doc["answer"])


def score_response(response: str, gold: str) -> float:
    """1 when the response is the gold letter (any case), or starts with an upper-case
    letter followed by "." and that letter is the gold one ("B. cat"); else 0."""
    if response.lower() == gold.lower():
        return 1.0
    if len(response) >= 2 and response[0].isupper() and response[1] == ".":
        return float(response[0] == gold)
    return 0.0


_GRADE = re.compile(r"grade(\d+)")


def grade_band(grade: Any) -> str | None:
    """`grade1`..`grade6` -> "G1-6"; `grade7`..`grade12` -> "G7-12" (ScienceQA's bands)."""
    match = _GRADE.fullmatch(str(grade or ""))
    if not match:
        return None
    return "G1-6" if int(match.group(1)) <= 6 else "G7-12"


def sqa_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    response = results[0] if results else ""
    score = score_response(response, sqa_doc_to_target(doc))
    return {
        "exact_match": score,
        "scienceqa_breakdown": {"subject": doc.get("subject"), "grade": grade_band(doc.get("grade")), "score": score},
    }


def sqa_breakdown(values: list[dict[str, Any]]) -> dict[str, float]:
    """Accuracy (fraction) per subject and per grade band, as in the ScienceQA paper's table."""
    groups: dict[str, list[float]] = defaultdict(list)
    for value in values:
        if value.get("subject"):
            groups[f"subject/{value['subject']}"].append(value["score"])
        if value.get("grade"):
            groups[f"grade/{value['grade']}"].append(value["score"])
    return {name: sum(scores) / len(scores) for name, scores in sorted(groups.items())}
