"""Letter readers shared by the multiple-choice families whose harness reads the start of the reply."""

from __future__ import annotations

import re

# BLINK and CV-Bench (lmms-eval): optional spaces and "(" , then one letter. Only the first
# such character counts, so "The answer is (B)" reads "T".
_LEADING_LETTER = re.compile(r"[\(\s]*([A-Z])[\)\.\s]*", re.IGNORECASE)


def leading_letter(response: str) -> str:
    """The first letter after leading spaces and brackets, upper-cased ("" when none)."""
    match = _LEADING_LETTER.match(response.strip())
    return match.group(1).upper() if match else ""


def choice_letters(count: int) -> list[str]:
    return [chr(ord("A") + i) for i in range(count)]


def bracket_gold(answer: str) -> str:
    """"(B)" -> "B"."""
    return answer.strip().strip("()")
