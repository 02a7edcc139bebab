"""`EvalAIAnswerProcessor`: lmms-eval's class form of the EvalAI answer normalisation,
which is this project's `evalai_answer` (lmms_eval/tasks/_common/vqa.py). The class keeps
the attributes and methods that task code reads; calling an instance runs `evalai_answer`
itself, so the two cannot drift apart (a subclass that overrides one method changes that
method, not the call).

Two properties of the original are kept because scores depend on them (see vqa.py): at
most 32 periods are deleted per answer, and the contraction table's capitalised keys
never match. One is not: the original's number lookup inserts every word it sees into
the class-level `NUMBER_MAP`; here the table is only read (outputs are the same).
"""

from __future__ import annotations

import re
from typing import Any

from lmms_eval.tasks._common import vqa
from lmms_eval.tasks._task_utils import names_from_users_copy


class EvalAIAnswerProcessor:
    """`processor(answer) -> normalised answer`; the constructor ignores its arguments."""

    CONTRACTIONS: dict[str, str] = dict(vqa.tables().contractions)
    NUMBER_MAP: dict[str, str] = dict(vqa.tables().number_words)
    ARTICLES: list[str] = sorted(vqa.tables().articles)
    PUNCTUATIONS: list[str] = list(vqa.tables().punctuation)
    # The original's patterns, as task code may use them; vqa.py applies the same rules.
    PERIOD_STRIP = re.compile(r"(?!<=\d)(\.)(?!\d)")
    COMMA_STRIP = re.compile(r"(\d)(,)(\d)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def word_tokenize(self, word: str) -> str:
        """The processor's first step: lower-case, delete "," and "?", split "'s" off the
        word before it, strip."""
        return word.lower().replace(",", "").replace("?", "").replace("'s", " 's").strip()

    def process_punctuation(self, in_text: str) -> str:
        return vqa.process_punctuation(in_text)

    def process_digit_article(self, in_text: str) -> str:
        return vqa.process_digit_article(in_text)

    def __call__(self, item: str) -> str:
        return vqa.evalai_answer(item)


__getattr__ = names_from_users_copy(__name__)
