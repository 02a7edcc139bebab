"""Removing a model's reasoning blocks (`<think>...</think>`) from its answer.

`strip_reasoning_tags` is lmms-eval's rule (import path `lmms_eval.api.reasoning`, used by
its task files and its evaluator); the `strip_thinking` filter and the scorer's
`reasoning_tags` stripping (lmms_eval/filters/text.py) are built on it. For each
`[open, close]` pair, in order:

1. every complete `open ... close` block is removed (the first `open`, up to the first
   `close` after it; again until none is left);
2. then, if `close` is still there but `open` is not, the reasoning began before the
   text we were given (a chat template that opens the block itself): only the text
   after the last `close` is kept.

Tags are matched case-sensitively, an `open` that is never closed stays, and the result
is stripped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

TagPair = Sequence[str]  # [open, close]

#: lmms-eval's `--reasoning_tags` default: stripped from every generated answer after the
#: filters and before scoring, unless the task or the flag says otherwise.
DEFAULT_REASONING_TAGS: tuple[tuple[str, str], ...] = (("<think>", "</think>"), ("<analysis>", "</analysis>"))


def parse_reasoning_tags(value: object, where: str) -> tuple[tuple[str, str], ...]:
    """`none` (or an empty list) turns stripping off; otherwise a list of [open, close]
    pairs, as a list or as its JSON text (`[["<think>", "</think>"]]`). ValueError names
    `where` and what was wrong."""
    import json

    if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "null", "")):
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError(f'{where} must be none or a JSON list of [open, close] pairs, e.g. [["<think>", "</think>"]], not {value!r}') from None
    pairs = value if isinstance(value, (list, tuple)) else None
    if pairs is None or not all(isinstance(pair, (list, tuple)) and len(pair) == 2 and all(isinstance(tag, str) and tag for tag in pair) for pair in pairs):
        raise ValueError(f"{where} must be none or a list of [open, close] pairs of non-empty strings, not {value!r}")
    return tuple((pair[0], pair[1]) for pair in pairs)


def strip_reasoning_tags(text: str, tag_pairs: Iterable[TagPair]) -> str:
    for opening, closing in tag_pairs:
        text = _remove_closed_blocks(text, opening, closing)
        if closing in text and opening not in text:
            text = text[text.rindex(closing) + len(closing) :]
    return text.strip()


def drop_unfinished_reasoning(text: str, opening: str, closing: str) -> str:
    """Cut the text at an `opening` tag that no `closing` tag follows (an answer cut off
    while still reasoning), as often as there is one."""
    while True:
        start = text.rfind(opening)
        if start == -1 or text.find(closing, start + len(opening)) != -1:
            return text
        text = text[:start]


def _remove_closed_blocks(text: str, opening: str, closing: str) -> str:
    while True:
        start = text.find(opening)
        if start == -1:
            return text
        end = text.find(closing, start + len(opening))
        if end == -1:
            return text
        text = text[:start] + text[end + len(closing) :]
