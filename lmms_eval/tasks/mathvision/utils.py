"""MathVision (MATH-V): competition maths with images, answers extracted from the reply
(the last \\boxed{} or an answer phrase) and compared symbolically, following the official
`evaluation/evaluate.py` rules as the fact sheet records them (see README.md).

Symbolic equality uses `latex2sympy2_extended` (installed with the `math` extra) and
rounds both sides to two decimals, as the official script does.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["doc_to_visual", "doc_to_text", "process_results", "extract_answer", "is_equal"]

INSTRUCTION = 'Please solve the problem step by step and put your answer in one "\\boxed{}".'
MC_PROMPT = "Answer the question with the option's letter from the given choices directly."
LETTERS = "ABCDE"
_FLAGS = ("the final answer is", "the answer is", "the correct answer is", "the answer should be")
_BOXED = re.compile(r"oxed\{(.*)\}", re.DOTALL)
_DELETIONS = (" ", "\\,", "\\text", "\\mbox", "\\left", "\\right", "^{\\circ}", "^\\circ", "m^3", "{m}^3", "units", "km")


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    return [doc["decoded_image"].convert("RGB")]


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    """The instruction directly followed by the question (no space, as lmms-eval)."""
    text = INSTRUCTION + doc["question"]
    options = list(doc.get("options") or [])
    if options:
        block = "\n".join(f"{letter}. {option}" for letter, option in zip(LETTERS, options))
        text += f"\nChoices: {block}\n{MC_PROMPT}"
    return text


# --- answer extraction ---------------------------------------------------------------------


def _letter_ending(text: str) -> str | None:
    for letter in LETTERS:
        if text.endswith((f" {letter}.", f" ({letter}).")) or text.startswith((f"{letter}\n", f"({letter})\n", f"({letter}) {letter}\n")):
            return letter
    return None


def _after_flags(text: str) -> str:
    if "oxed{" in text:
        return text[text.rfind("oxed{") :] if text.count("oxed{") > 1 else text
    for flag in _FLAGS + tuple(flag.capitalize() for flag in _FLAGS):
        if flag in text:
            text = text.split(flag)[-1].split("\n")[0].split(". ")[0]
    return text


def _fix_fracs(text: str) -> str:
    """"\\frac12" -> "\\frac{1}{2}" (MATH's brace fix for one-character arguments)."""
    return re.sub(r"\\frac(?!\{)(\w)(\w)", r"\\frac{\1}{\2}", re.sub(r"\\frac\{([^{}]*)\}(?!\{)(\w)", r"\\frac{\1}{\2}", text))


def strip_string(text: str) -> str:
    """The MATH dataset's answer normalisation (the parts that apply after the deletions)."""
    text = text.replace("\n", "").replace("\\!", "").replace("\\\\", "\\")
    text = text.replace("tfrac", "frac").replace("dfrac", "frac").replace("\\$", "").replace("$", "")
    text = text.replace("\\%", "").replace("%", "")
    text = re.sub(r"\\text\{\s[^}]*\}$", "", text)
    if text.startswith("."):
        text = "0" + text
    parts = text.split("=")
    if len(parts) == 2 and len(parts[0]) <= 2:
        text = parts[1]
    text = re.sub(r"\\sqrt(\w)", r"\\sqrt{\1}", text)
    text = _fix_fracs(text)
    if text == "0.5":
        return "\\frac{1}{2}"
    match = re.fullmatch(r"(-?\d+)/(-?\d+)", text)
    return f"\\frac{{{match.group(1)}}}{{{match.group(2)}}}" if match else text


def find_math_answer(text: str) -> str:
    text = text.lower().replace("{}", "")
    boxed = _BOXED.findall(text)
    answer = boxed[-1] if boxed else text
    if "}" in answer and ("{" not in answer or answer.index("}") < answer.index("{")):
        answer = answer.split("}")[0]
    answer = answer.split("=")[-1].split("\\approx")[-1]
    for deletion in _DELETIONS:
        answer = answer.replace(deletion, "")
    answer = answer.replace("∞", "\\infty").replace("bmatrix", "pmatrix")
    return strip_string(answer)


def extract_answer(response: str) -> str:
    text = response.strip()
    letter = _letter_ending(text)
    if letter:
        return letter
    tail = text.split("is ")[-1].rstrip(".") if "is " in text else None
    if tail is not None:
        try:
            float(tail)
            return tail
        except ValueError:
            pass
    answer = find_math_answer(_after_flags(text))
    for letter in "abcde":
        answer = answer.replace(f"({letter})", letter).replace(f"{{{letter}}}", letter)
    return answer.rstrip(".").lstrip(":").strip()


# --- equality ------------------------------------------------------------------------------


def _value(text: str) -> float:
    from latex2sympy2_extended import latex2sympy

    return round(float(latex2sympy(text).evalf()), 2)


def _tuple_values(text: str) -> list[float] | None:
    if len(text) > 2 and text[0] in "([" and text[-1] in ")]" and "," in text:
        items = [item.strip() for item in text[1:-1].split(",")]
        if any(item in ("infty", "a", "-a") for item in items):
            return None
        return [_value(item) for item in items]
    return None


def is_equal(gold: str, predicted: str) -> bool:
    gold, predicted = gold.lower().strip(), predicted.lower().strip()
    if not gold or not predicted:
        return False
    if gold == predicted:
        return True
    try:
        gold_tuple, predicted_tuple = _tuple_values(gold), _tuple_values(predicted)
        if gold_tuple is not None and gold_tuple == predicted_tuple:
            return True
        return _value(gold) == _value(predicted)
    except Exception:  # noqa: BLE001 - the official rule: anything unparsable is unequal
        return False


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    predicted = extract_answer(str(results[0]))
    gold = str(doc["answer"])
    options = list(doc.get("options") or [])
    gold_text = options[LETTERS.index(gold)] if gold in LETTERS[: len(options)] else None
    correct = is_equal(gold, predicted) or (gold_text is not None and is_equal(gold_text, predicted))
    return {"mathvision_standard_eval": 100.0 * correct}
