"""The Video-MME family of letter readers: delete answer phrases, then take the first letter.

Video-MME's official script reads a reply this way, and lmms-eval reuses the rule for
LongVideoBench, MLVU (for a while) and MME-RealWorld: strip the reply, delete every
occurrence of a few answer phrases ("The best answer is", ...), give up on a long reply
that names no option letter, and otherwise take the first option letter found anywhere
(upper case only, so "Based on the video" reads B). The tasks differ in their phrase lists
and in what "give up" means; each passes its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# The official Video-MME list. Two commas are missing in it, so two pairs of phrases are
# single concatenated strings that never occur in a reply: only the first four phrases act.
VIDEO_MME_PREFIXES = (
    "The best answer is",
    "The correct answer is",
    "The answer is",
    "The answer",
    "The best option isThe correct option is",
    "Best answer:Best option:",
)
# The same list with the commas in place (LongVideoBench and MME-RealWorld in lmms-eval).
EIGHT_PREFIXES = (
    "The best answer is",
    "The correct answer is",
    "The answer is",
    "The answer",
    "The best option is",
    "The correct option is",
    "Best answer:",
    "Best option:",
)
MAX_WORDS_WITHOUT_LETTER = 10


def without_prefixes(reply: str, prefixes: Sequence[str]) -> str:
    """The stripped reply with every occurrence of each phrase deleted, in list order."""
    text = reply.strip()
    for prefix in prefixes:
        text = text.replace(prefix, "")
    return text


def first_letter(text: str, letters: str) -> str | None:
    """The first of `letters` (upper case) anywhere in `text`."""
    match = re.search(f"[{re.escape(letters)}]", text)
    return match.group(0) if match else None


def long_without_letter(text: str, letters: str) -> bool:
    """More than ten words and none of `letters`: the reply is a sentence that names no option."""
    return len(text.split()) > MAX_WORDS_WITHOUT_LETTER and first_letter(text, letters) is None
