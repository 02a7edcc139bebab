"""MMMU-Pro (standard 10 options, vision): prompts, images and the two scorers.

Default scorer (`mmmu_pro_standard`, `mmmu_pro_vision`): the official MMMU-Pro
`evaluate.py` rule, the same for both settings: in the text after the last "Answer:",
a single option letter is the answer; otherwise the MMMU multiple-choice parser
(lmms-eval's variant, with the "L " and "L." rules) reads the whole response.

Named versions (`*_lmms_eval`): lmms-eval's scorer: the MMMU parser alone on standard,
and on vision no parsing at all (the stripped response must equal the gold letter).

The parser's random fallback is seeded per question id (the official script's is
unseeded), so a run is reproducible.
"""

from __future__ import annotations

import random
from typing import Any

from lmms_eval.tasks._builtin.mmmu.utils import image_numbers, mmmu_breakdown, option_letters, parse_options
from lmms_eval.tasks._task_utils.mmmu_mcq_utils import parse_mmmu_multi_choice_response

__all__ = [
    "standard_doc_to_text",
    "standard_doc_to_visual",
    "vision_doc_to_text",
    "vision_doc_to_visual",
    "process_official",
    "process_standard_lmms_eval",
    "process_vision_lmms_eval",
    "mmmu_breakdown",
]

FALLBACK_SEED = 42
_ANSWER_MARK = "Answer:"


# --- prompts and images ------------------------------------------------------------------


def standard_doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    """Question, the ten lettered options, a blank line, the instruction (tags stay literal)."""
    kwargs = lmms_eval_specific_kwargs or {}
    options = parse_options(doc)
    block = "\n".join(f"{letter}. {option}" for letter, option in zip(option_letters(len(options)), options))
    return f"{kwargs.get('pre_prompt') or ''}{doc['question']}\n{block}\n\n{kwargs.get('post_prompt') or ''}"


def standard_doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    """The distinct `<image N>` tags of question and options, ascending, as RGB images."""
    images = (doc.get(f"image_{number}") for number in image_numbers(doc))
    return [image.convert("RGB") for image in images if image is not None]


def vision_doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    """The question and options are in the screenshot: the text is the instruction only."""
    kwargs = lmms_eval_specific_kwargs or {}
    return f"{kwargs.get('pre_prompt') or ''}{kwargs.get('post_prompt') or ''}"


def vision_doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    return [doc["image"].convert("RGB")]


# --- parsing -----------------------------------------------------------------------------


def fallback_rng(doc: dict[str, Any]) -> random.Random:
    return random.Random(f"{FALLBACK_SEED}:{doc.get('id', '')}")


def parse_mmmu_choice(response: str, options: list[str], rng: random.Random) -> str:
    """lmms-eval's MMMU parser ("(L)", then " L ", then "L.", then option text for replies of
    more than five words; the right-most candidate), with a seeded random fallback."""
    letters = option_letters(len(options))
    if not letters:
        return ""
    return parse_mmmu_multi_choice_response(response, letters, dict(zip(letters, options)), rng=rng)


def parse_official(response: str, options: list[str], rng: random.Random) -> str:
    """MMMU-Pro's evaluator: one option letter after the last "Answer:", else the parser."""
    if _ANSWER_MARK in response:
        tail = response.rsplit(_ANSWER_MARK, 1)[1]
        present = [letter for letter in option_letters(len(options)) if letter in tail]
        if len(present) == 1:
            return present[0]
    return parse_mmmu_choice(response, options, rng)


# --- per-sample scores -------------------------------------------------------------------


def _scored(doc: dict[str, Any], parsed: str) -> dict[str, Any]:
    correct = parsed == str(doc["answer"]).strip()
    return {
        "mmmu_acc": float(correct),
        "mmmu_breakdown": {"id": doc.get("id"), "subject": doc.get("subject", "unknown"), "parsed_pred": parsed, "answer": doc["answer"], "correct": correct},
    }


def process_official(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    return _scored(doc, parse_official(results[0] if results else "", parse_options(doc), fallback_rng(doc)))


def process_standard_lmms_eval(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    return _scored(doc, parse_mmmu_choice(results[0] if results else "", parse_options(doc), fallback_rng(doc)))


def process_vision_lmms_eval(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    return _scored(doc, (results[0] if results else "").strip())
