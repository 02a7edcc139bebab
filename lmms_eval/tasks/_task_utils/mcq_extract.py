"""`extract_mcq_answer`: lmms-eval's option-letter reader, which is this project's
`extract_choice_letter` (lmms_eval/tasks/_common/choices.py, the same priority rule)."""

from __future__ import annotations

from collections.abc import Sequence

from lmms_eval.tasks._common.choices import extract_choice_letter
from lmms_eval.tasks._task_utils import names_from_users_copy

DEFAULT_CHOICES = ("A", "B", "C", "D", "E", "F", "G", "H")


def extract_mcq_answer(response: str | None, choices: Sequence[str] | None = None) -> str:
    """The letter of `choices` (default A-H; an empty list means the default) that the
    response picks, or "" when it names none. Letters are case-sensitive."""
    if response is None:
        return ""
    return extract_choice_letter(response, tuple(choices) if choices else DEFAULT_CHOICES)


__getattr__ = names_from_users_copy(__name__)
