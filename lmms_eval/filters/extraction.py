"""Filters that extract an answer from a longer response."""

from __future__ import annotations

import re
import string
from typing import Any

from lmms_eval.api.filter import ResponseMap


class RegexFilter(ResponseMap):
    """`regex`: the `group_select`-th match of `regex_pattern` (negative counts from the end).

    With capture groups the first non-empty group of that match is kept; no match gives
    `fallback`.
    """

    def __init__(self, regex_pattern: str = r"#### (\-?[0-9\.\,]+)", group_select: int = 0, fallback: str = "[invalid]") -> None:
        super().__init__()
        self.pattern = re.compile(regex_pattern)
        self.group_select = group_select
        self.fallback = fallback

    def map(self, response: Any, doc: dict[str, Any]) -> Any:
        matches = self.pattern.findall(response)
        if not matches:
            return self.fallback
        try:
            match = matches[self.group_select]
        except IndexError:
            return self.fallback
        if isinstance(match, tuple):
            match = next((group for group in match if group), "")
        return match.strip() if match else self.fallback


class MultiChoiceRegexFilter(ResponseMap):
    """`multi_choice_regex`: read a choice letter out of a free-form answer.

    In order: the task's own `regex_pattern`; the text of one of the doc's choices (from
    `choices_key`, default "choices") mapped to its letter; a lone letter such as "B",
    "(B)" or "B." . The result is "(B)"; with nothing found, `fallback`.
    """

    def __init__(
        self,
        regex_pattern: str = r"\(([A-Z])\)",
        group_select: int = 0,
        fallback: str = "[invalid]",
        ignore_case: bool = False,
        ignore_punctuation: bool = False,
        choices_key: str = "choices",
    ) -> None:
        super().__init__()
        self.primary = RegexFilter(regex_pattern, group_select, fallback)
        if ignore_case:
            self.primary.pattern = re.compile(regex_pattern, re.IGNORECASE)
        self.fallback = fallback
        self.ignore_case = ignore_case
        self.ignore_punctuation = ignore_punctuation
        self.choices_key = choices_key

    def map(self, response: Any, doc: dict[str, Any]) -> Any:
        found = self.primary.map(response, doc)
        if found != self.fallback:
            letter = found.strip("() .")
            letter = letter.upper() if self.ignore_case else letter
            return f"({letter})" if len(letter) == 1 else found
        letter = self._letter_from_choice_text(response, doc) or self._lone_letter(response, doc)
        return f"({letter})" if letter else self.fallback

    def _normalise(self, text: str) -> str:
        if self.ignore_case:
            text = text.lower()
        if self.ignore_punctuation:
            text = text.translate(str.maketrans("", "", string.punctuation))
        return text.strip()

    def _choices(self, doc: dict[str, Any]) -> list[str]:
        choices = doc.get(self.choices_key) or []
        return [str(choice) for choice in choices]

    def _letter_from_choice_text(self, response: str, doc: dict[str, Any]) -> str | None:
        normalised = self._normalise(response)
        texts = [self._normalise(choice) for choice in self._choices(doc)]
        found = [index for index, text in enumerate(texts) if text and text in normalised]
        # The longest choice found wins: "12" also contains "1", "black cat" also "cat".
        return string.ascii_uppercase[max(found, key=lambda index: len(texts[index]))] if found else None

    def _lone_letter(self, response: str, doc: dict[str, Any]) -> str | None:
        count = len(self._choices(doc)) or 26
        letters = string.ascii_uppercase[:count]
        match = re.search(rf"(?:^|[\s(])([{letters}])(?:$|[\s).:,])", response.strip())
        return match.group(1) if match else None
