"""AI2D: prompt, gold letter and the "flexible-extract" answer filter."""

from __future__ import annotations

import re
from typing import Any

from lmms_eval.api.filter import ResponseMap


def option_letter(index: int) -> str:
    return chr(ord("A") + int(index))


def ai2d_doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    return [doc["image"].convert("RGB")]


def ai2d_doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    """The question, the lettered options one per line, then post_prompt (starts with "\\n")."""
    kwargs = lmms_eval_specific_kwargs or {}
    choices = "\n".join(f"{option_letter(i)}. {option}" for i, option in enumerate(doc["options"]))
    return f"{kwargs.get('pre_prompt', '') or ''}{doc['question']}\n{choices}{kwargs.get('post_prompt', '') or ''}"


def ai2d_doc_to_target(doc: dict[str, Any]) -> str:
    """`answer` is the index of the right option as a string ("0".."3"): its letter."""
    return option_letter(int(str(doc["answer"]).strip()))


_LETTER_DOT = re.compile(r"\s*([A-Z])\.")


def flexible_extract(response: str) -> str:
    """A response that starts with (optional spaces,) a capital letter and "." becomes that
    letter ("B. dog" -> "B"); any other response is kept whole."""
    match = _LETTER_DOT.match(response)
    return match.group(1) if match else response


class FlexibleExtract(ResponseMap):
    """Filter step for `flexible_extract` (applied to every response of a doc)."""

    def map(self, response: Any, doc: dict[str, Any]) -> Any:
        return flexible_extract(str(response))
